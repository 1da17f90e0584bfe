"""The community context: reasoning templates people write, publish, find, import and rate.

A *template* is Markdown with YAML front matter (name, description, domain, methodology,
keywords, version) that shapes how an expert answers. The community service plays two roles,
which one deployment may run together or apart:

- *Local templates*, under the person's own tenant (aggregate `template`, keyed by the
  template id): `TemplateCreated`, `TemplateEdited` (each edit a new immutable version whose
  semver must grow), `TemplateForked` (keeps where it came from), `TemplateImported` (a copy
  of a registry template, with its version, signature and publisher key), `TemplateShared`
  (the copy was published, as which registry id and version), `TemplateDeleted`. Which
  template an expert answers with lies on aggregate `applied`, keyed by the expert id:
  `TemplateApplied` (no template id: removed).
- *The registry*, under the install's tenant `registry` (aggregate `published`, keyed by the
  registry id): `TemplatePublished`, `TemplateVersionPublished`, `TemplateUnpublished`,
  `TemplateDownloaded`, `TemplateRated`, `TemplateReviewed`, `TemplateReported`,
  `TemplateHidden`, `TemplateRestored`, `ReportDismissed`. Published content is public by
  intent and stays plain on the log; the publisher's tenant is recorded as a field.

A publication is signed with its publisher's Ed25519 key over `signed_message(...)`; the
registry verifies it on publish and every importer verifies it again on import.
"""

from contracts.community.events import *  # noqa: F403
from contracts.community.messages import *  # noqa: F403
from contracts.community.replies import *  # noqa: F403
from contracts.community.values import *  # noqa: F403
