"""A digest of kvdiff's analysing code, for result caches whose entries it alone determines.

A check's findings and the model's outcomes at a tag are a function of their inputs (the files
read at the tag, the rules, the golden file, the options) and of the code of the stages that
compute them. This digest covers every file under ``analyzers/`` (each stage's modules, rule
sets and tables: more than those stages need, so that no dependency can be missed), by relative
path and bytes. It leaves out the version label, which no finding or outcome contains: a
version bump that changes no code keeps the entries, any change of code drops them.

Each file is read and hashed once per run (:func:`file_digests`): the package digest of the
report's caches (:func:`.sitecache.package_digest`) is made of the same files' digests.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # analyzers/


def code_files() -> list[str]:
    """Every file under ``analyzers/`` but compiled bytecode, as sorted relative paths."""
    return sorted(file_digests())


@cache
def file_digests() -> dict[str, tuple[int, bytes]]:
    """Relative path -> (size, sha256) of every file under ``analyzers/`` but compiled
    bytecode (read once per run)."""
    found: dict[str, tuple[int, bytes]] = {}
    for folder, dirs, files in os.walk(_ROOT):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        rel = os.path.relpath(folder, _ROOT)
        for name in files:
            if name.endswith(".pyc"):
                continue
            with open(os.path.join(folder, name), "rb") as fh:
                data = fh.read()
            key = name if rel == "." else os.path.join(rel, name)
            found[key] = (len(data), hashlib.sha256(data).digest())
    return found


def root() -> str:
    """The ``analyzers/`` folder the digests are of."""
    return _ROOT


@cache
def code_digest() -> str:
    """sha256 over the relative path, length and digest of each of :func:`code_files`."""
    h = hashlib.sha256()
    digests = file_digests()
    for rel in sorted(digests):
        size, digest = digests[rel]
        h.update(f"{rel}\0{size}\0".encode())
        h.update(digest)
    return h.hexdigest()
