"""Kernel tag ordering: by version, not by name (v2.6.9 < v2.6.10 < v3.0 < v5.1-rc1 < v5.1)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

_VERSION = re.compile(r"^v(\d+(?:\.\d+)*)(?:-rc(\d+))?$")

# A release sorts after all of its release candidates.
_RELEASE = 1_000_000


def parse_version(tag: str) -> tuple[tuple[int, ...], int] | None:
    """``(numbers, rc)`` for a version tag (``rc`` is a large number for a release), else None."""
    m = _VERSION.match(tag)
    if m is None:
        return None
    numbers = tuple(int(part) for part in m.group(1).split("."))
    rc = int(m.group(2)) if m.group(2) is not None else _RELEASE
    return numbers, rc


def version_key(tag: str) -> tuple:
    """Sort key: version tags by version; other tags after them, by name.

    ``v5.1-rc1 < v5.1-rc2 < v5.1 < v5.1.1``: a release's numbers compare as a tuple, so ``(5, 1)``
    precedes ``(5, 1, 1)``, and its candidates precede it through the ``rc`` field.
    """
    parsed = parse_version(tag)
    if parsed is None:
        return (1, (), 0, tag)
    numbers, rc = parsed
    return (0, numbers, rc, tag)


def sort_tags(tags: Iterable[str]) -> list[str]:
    """Distinct tags in version order."""
    return sorted(set(tags), key=version_key)


def _common_prefix(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def closest_tags(tag: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The ``n`` candidates nearest to ``tag``: for a version tag, the ones sharing the most
    leading version numbers, then nearest in the first differing number, then by spelling;
    for any other tag, by spelling alone (difflib ratio)."""
    pool = sorted(set(candidates) - {tag})
    parsed = parse_version(tag)

    def similarity(other: str) -> float:
        return difflib.SequenceMatcher(None, tag, other).ratio()

    if parsed is None:
        scored = sorted(pool, key=lambda c: (-similarity(c), version_key(c)))
        return [c for c in scored if similarity(c) >= 0.5][:n]

    numbers, _ = parsed

    def key(other: str) -> tuple:
        other_parsed = parse_version(other)
        if other_parsed is None:
            return (1, 0, 0, -similarity(other), other)
        other_numbers, _ = other_parsed
        shared = _common_prefix(numbers, other_numbers)
        a = numbers[shared] if shared < len(numbers) else 0
        b = other_numbers[shared] if shared < len(other_numbers) else 0
        return (0, -shared, abs(a - b), -similarity(other), other)

    return sorted(pool, key=key)[:n]
