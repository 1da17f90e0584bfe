"""A message or a reply built from another record's fields of the same names.

The gateway often turns one shape into the next: a request body into its command (the
command adds the path's ids and who asks), a service's view into the narrower reply a route
documents, a route's query parameters into the query the service reads. Written field by
field, each of these is a list of `name=source.name` lines that must be kept in step with
both contracts; `fields_from` copies exactly the fields the target declares and the source
has, and the caller names only what differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

Target = TypeVar("Target", bound=msgspec.Struct)


def fields_from(target: type[Target], source: object, /, **given: Any) -> Target:
    """A `target` whose fields are `source`'s of the same names (attributes of a record, or
    the keys of a mapping such as a handler's parameters), with `given` in place of those it
    names (any field's name, `source` and `target` too: both are positional only). A field
    neither has keeps `target`'s default; the target validates nothing here, so `source` must
    already be a validated contract or a route's validated parameters."""
    values = source if isinstance(source, Mapping) else None
    copied = {}
    for name in target.__struct_fields__:
        if name in given:
            continue
        if values is not None:
            if name in values:
                copied[name] = values[name]
        elif hasattr(source, name):
            copied[name] = getattr(source, name)
    return target(**copied, **given)
