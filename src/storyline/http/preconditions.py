"""Versions of what a client read, so that a write can refuse to overwrite a
change the client never saw (lost updates). Shared by both kits: the JSON
API sends them as `ETag` and checks `If-Match` (`storyline.api.preconditions`),
the pages put them in their edit forms (`storyline.web.conflicts`).

A version is a hash of the representation itself, not of `updated_at` or a
counter: `updated_at` has one-second resolution in the API and is not
touched by every change that shows in a resource (a story's tags and ACL,
the names of its ACL users), and a counter would need every writer of every
table a representation draws on to bump it. A hash changes exactly when
what the client sees changes, and costs one serialization of an object the
server builds anyway. docs/api.md, "Conditional requests", says more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson


def _digest(content: Any) -> str:
    # Sorted keys make the hash independent of how the document was built
    # (a dict written by hand or a serialized Pydantic model).
    canonical = orjson.dumps(content, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def etag(content: Any) -> str:
    """The strong entity tag of a JSON document (already JSON data)."""
    return f'"{_digest(content)[:32]}"'


def parse_entity_tags(header: str | None) -> frozenset[str] | None:
    """The tags of an `If-Match` or `If-None-Match` header; None when the
    header is absent, empty or `*` (a write that does not depend on the
    version: StoryBoard's clients send none)."""
    if header is None:
        return None
    tags = frozenset(tag.strip() for tag in header.split(",") if tag.strip())
    if not tags or "*" in tags:
        return None
    return tags


# The form version: one short hash per field, so that a conflict can name
# the fields that changed without the page carrying their old values.
_FIELD_HASH = 12


def form_version(fields: Mapping[str, Any]) -> str:
    """The version of the fields an edit form shows, for a hidden input."""
    return ";".join(f"{name}:{_digest(value)[:_FIELD_HASH]}" for name, value in fields.items())


def changed_fields(version: str, current: Mapping[str, Any]) -> list[str] | None:
    """The fields of `current` that differ from the ones `version` was made
    from, in `current`'s order; None when the form sent no version (an old
    page, or a script), which means "do not check"."""
    if not version.strip():
        return None
    seen = dict(part.partition(":")[::2] for part in version.split(";"))
    now = form_version(current)
    mine = dict(part.partition(":")[::2] for part in now.split(";"))
    return [name for name in current if seen.get(name) != mine[name]]
