"""A digest of kvdiff's analysing code, for result caches whose entries it alone determines.

A check's findings and the model's outcomes at a tag are a function of their inputs (the files
read at the tag, the rules, the golden file, the options) and of the code of the stages that
compute them. This digest covers every file under ``analyzers/`` (each stage's modules, rule
sets and tables: more than those stages need, so that no dependency can be missed), by relative
path and bytes. It leaves out the version label, which no finding or outcome contains: a
version bump that changes no code keeps the entries, any change of code drops them.

About 3 ms per run, against about 20 ms for :func:`.sitecache.package_digest` (which imports
``importlib.metadata`` for the version the pages print).
"""

from __future__ import annotations

import hashlib
import os
from functools import cache

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # analyzers/


def code_files() -> list[str]:
    """Every file under ``analyzers/`` but compiled bytecode, as sorted relative paths."""
    found: list[str] = []
    for folder, dirs, files in os.walk(_ROOT):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        rel = os.path.relpath(folder, _ROOT)
        found += (os.path.normpath(os.path.join(rel, f)) for f in files if not f.endswith(".pyc"))
    return sorted(found)


@cache
def code_digest() -> str:
    """sha256 over the relative path, length and bytes of each of :func:`code_files`."""
    h = hashlib.sha256()
    for rel in code_files():
        with open(os.path.join(_ROOT, rel), "rb") as fh:
            data = fh.read()
        h.update(f"{rel}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()
