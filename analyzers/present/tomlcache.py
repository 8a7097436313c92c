"""TOML documents parsed once and kept in the result cache (the annotations are 80 KB of TOML:
tomllib takes longer over them than a warm report takes over its pages' strings).

The key is the text's sha256 and the Python version (tomllib is the standard library's); the
entry is the document as JSON text, which keeps the tables' key order. Only a document JSON
gives back exactly (strings, integers, finite floats, booleans, arrays, tables: no dates) is
kept; a damaged entry is a miss. A text tomllib rejects raises as tomllib raises.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from typing import Any

from kvdiff.analyzers.analyze.resultcache import ResultCache, make_key


def _json_exact(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_exact(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_json_exact(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str | int | bool)


def load_toml(text: str, cache: ResultCache | None = None) -> dict[str, Any]:
    """``tomllib.loads(text)``, through ``cache`` when one is given."""
    if cache is None:
        return _parse(text)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    key = make_key("toml", f"python={sys.version}", f"text={digest}")
    hit = cache.get(key)
    if hit is not None and isinstance(hit.get("json"), str):
        try:
            doc = json.loads(hit["json"])
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            return doc
    doc = _parse(text)
    if _json_exact(doc):
        cache.put(key, {"json": json.dumps(doc, ensure_ascii=False)})
    return doc


def _parse(text: str) -> dict[str, Any]:
    import tomllib  # on a miss only: a warm run reads every document from the cache

    return tomllib.loads(text)
