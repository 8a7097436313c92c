"""The one JSON writer of the commands' ``--json`` outputs, and their schema version.

Every document a command prints carries ``schema_version`` (an integer; documented per command in
the README's "JSON outputs" section). It is raised when a field changes meaning or goes away;
adding a field does not raise it. Keys are sorted, so the same input gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

SCHEMA_VERSION = 1


def versioned(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` with ``schema_version`` added (a document's own value is kept)."""
    return {"schema_version": SCHEMA_VERSION, **doc}


def json_text(doc: Mapping[str, Any], *, ensure_ascii: bool = True) -> str:
    """The document as printed: ``schema_version`` added, sorted keys, two-space indent, one
    trailing newline."""
    return json.dumps(versioned(doc), sort_keys=True, indent=2, ensure_ascii=ensure_ascii) + "\n"
