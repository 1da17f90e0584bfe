"""The pure checks a template passes through: its front matter, personal data that must not
be published, patterns to warn about before an import, signatures, versions and ranking.

They do no I/O and hold no state, so the local role, the registry role and the tests call
them alike, and a refusal reads the same wherever it is made.
"""
