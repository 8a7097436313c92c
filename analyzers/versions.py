"""Kernel tag ordering by version, not by name (v2.6.9 < v2.6.10 < v3.0 < v5.1-rc1 < v5.1), and
version ranges over that order (``>=v5.1``, ``v2.6.35..v5.10.37``)."""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from kvdiff.analyzers.errors import KvdiffError

# At most 18 digits a number: a longer run is no kernel version, and int() of a 5,000-digit string
# raises ValueError (Python's int-from-str limit) instead of giving a sort key.
_VERSION = re.compile(r"^v(\d{1,18}(?:\.\d{1,18})*)(?:-rc(\d{1,18}))?$")

# A release sorts after all of its release candidates.
_RELEASE = 1_000_000


# A history asks about every tag many times (one rule epoch check per concept and tag); bounded,
# so memory does not grow with the number of tags.
@lru_cache(maxsize=8192)
def parse_version(tag: str) -> tuple[tuple[int, ...], int] | None:
    """``(numbers, rc)`` for a version tag (``rc`` is a large number for a release), else None."""
    m = _VERSION.match(tag)
    if m is None:
        return None
    numbers = tuple(int(part) for part in m.group(1).split("."))
    rc = int(m.group(2)) if m.group(2) is not None else _RELEASE
    return numbers, rc


@lru_cache(maxsize=8192)
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


def split_list(values: Iterable[str], option: str | None = None) -> tuple[str, ...]:
    """Repeatable, comma- or space-separated option values (``--tags a,b``, ``--pairs A..B``),
    de-duplicated, in first-seen order. With ``option`` named, a value given but holding no item
    (``--tags ""``, ``--tags ,``) is a KvdiffError: it must not mean "the default"."""
    out: list[str] = []
    for value in values:
        parts = value.replace(",", " ").split()
        if option is not None and not parts:
            raise KvdiffError(
                f"{option} {value!r} names nothing; give at least one value, or leave "
                f"{option} out for the default"
            )
        for part in parts:
            if part not in out:
                out.append(part)
    return tuple(out)


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


@dataclass(frozen=True)
class TagRange:
    """A set of tags: ``*``, ``>=T``, ``>T``, ``<=T``, ``<T``, ``A..B`` (inclusive), ``T``, or a
    list of exact tags. Ordering is by kernel version (:func:`version_key`), so ``v5.10.37`` is
    after ``v5.1`` and ``v5.1-rc1`` before it. A tag that is not a version (a branch name, say)
    matches only ``*`` and exact tags: a range says nothing about it."""

    spec: str
    op: str  # "*", ">=", ">", "<=", "<", "..", "=" (exact tags)
    bounds: tuple[str, ...]

    def matches(self, tag: str) -> bool:
        if self.op == "*":
            return True
        if self.op == "=":
            return tag in self.bounds
        if parse_version(tag) is None:
            return False
        key = version_key(tag)
        if self.op == "..":
            return version_key(self.bounds[0]) <= key <= version_key(self.bounds[1])
        bound = version_key(self.bounds[0])
        return {
            ">=": key >= bound,
            ">": key > bound,
            "<=": key <= bound,
            "<": key < bound,
        }[self.op]


def _version_tag(tag: str, spec: str) -> str:
    tag = tag.strip()
    if parse_version(tag) is None:
        raise ValueError(f"{tag!r} in {spec!r} is not a version tag like v5.10.37 or v5.1-rc1")
    return tag


def parse_tag_range(spec: str | Sequence[str]) -> TagRange:
    """Parse a version range; raises ValueError with a readable reason when it is malformed."""
    if not isinstance(spec, str):
        tags = tuple(str(t).strip() for t in spec)
        if not tags or not all(isinstance(t, str) and t for t in spec):
            raise ValueError(f"tag list {list(spec)!r} must be a non-empty list of tags")
        return TagRange(spec=", ".join(tags), op="=", bounds=tags)
    text = spec.strip()
    if text == "*":
        return TagRange(spec=text, op="*", bounds=())
    if ".." in text:
        low, _, high = text.partition("..")
        low_tag, high_tag = _version_tag(low, text), _version_tag(high, text)
        if version_key(low_tag) > version_key(high_tag):
            raise ValueError(f"range {text!r} is empty: {low_tag} is after {high_tag}")
        return TagRange(spec=text, op="..", bounds=(low_tag, high_tag))
    for op in (">=", "<=", ">", "<"):
        if text.startswith(op):
            return TagRange(spec=text, op=op, bounds=(_version_tag(text[len(op) :], text),))
    if not text or any(c.isspace() for c in text):
        raise ValueError(f"tag range {spec!r} is not '*', '>=T', '<T', 'A..B', a tag or a list")
    return TagRange(spec=text, op="=", bounds=(text,))


def parse_range(spec: str) -> tuple[str | None, str | None]:
    """``A..B`` (either side may be empty) into its bounds; anything else is a KvdiffError."""
    if spec.count("..") != 1:
        raise KvdiffError(
            f"--range {spec!r} is not of the form A..B; write e.g. --range v2.6.35..v5.10.37"
        )
    low, high = (part.strip() or None for part in spec.split(".."))
    for bound in (low, high):
        if bound is not None and parse_version(bound) is None:
            raise KvdiffError(
                f"--range bound {bound!r} is not a version tag; use tags like v5.1 or v5.10.37"
            )
    if low and high and version_key(low) > version_key(high):
        raise KvdiffError(f"--range {spec} is empty: {low} comes after {high}; swap the bounds")
    return low, high


def open_tag_range(low: str | None, high: str | None) -> TagRange | None:
    """``--range`` bounds (either may be open) as the shared inclusive version range."""
    if low and high:
        return parse_tag_range(f"{low}..{high}")
    if low or high:
        return parse_tag_range(f">={low}" if low else f"<={high}")
    return None


_GLOB_CHARS = frozenset("*?[")


def is_glob(pattern: str) -> bool:
    """Whether a ``--tags`` item is a shell-style glob (``v5.*``) rather than one tag."""
    return any(c in _GLOB_CHARS for c in pattern)


def tag_patterns(value: str | Iterable[str] | None, option: str = "--tags") -> tuple[str, ...]:
    """``--tags`` as its items: one string or repeated values, each a comma (or space) list of
    tags and globs. ``None`` or nothing given is ``()``; a value naming nothing is an error."""
    if value is None:
        return ()
    return split_list([value] if isinstance(value, str) else value, option)


def _matches(tag: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(tag, pattern) if is_glob(pattern) else tag == pattern


def _nothing_matched(pattern: str, known: Sequence[str], where: str, option: str) -> KvdiffError:
    """A ``--tags`` item that selects no tag, with the tags nearest to it."""
    close = closest_tags(pattern.rstrip("*?[]."), known) if known else []
    near = f"; closest: {', '.join(close)}" if close else ""
    return KvdiffError(
        f"{option} {pattern!r} matches no tags among the {len(known)} {where}{near}; "
        f"check the pattern (globs like 'v5.*' are allowed), or fetch the tags first "
        f"(kvdiff fetch TAG... or --fetch)"
    )


def expand_tags(
    patterns: Sequence[str],
    known: Callable[[], Iterable[str]],
    where: str = "tags in the cache and --repo clones",
    option: str = "--tags",
) -> tuple[str, ...]:
    """The tags ``--tags`` names, in the order given: a plain tag stands for itself (it need not
    be known yet: it is fetched when missing), a glob for every ``known()`` tag it matches, in
    version order. ``known`` is only called when there is a glob. A glob matching nothing is a
    KvdiffError naming it."""
    pool: list[str] | None = None
    out: list[str] = []
    for pattern in patterns:
        if not is_glob(pattern):
            hits = [pattern]
        else:
            if pool is None:
                pool = sort_tags(known())
            hits = [tag for tag in pool if fnmatch.fnmatchcase(tag, pattern)]
            if not hits:
                raise _nothing_matched(pattern, pool, where, option)
        out.extend(tag for tag in hits if tag not in out)
    return tuple(out)


def select_tags(
    tags: Iterable[str],
    pattern: str | Sequence[str] | None = None,
    tag_range: str | None = None,
    where: str | None = None,
) -> list[str]:
    """Tags matching any ``--tags`` item (a comma list of tags and globs) and inside the
    inclusive version range, in version order. With ``where`` (what ``tags`` are, for the
    message), an item that matches none of ``tags`` is a KvdiffError naming it."""
    window = open_tag_range(*parse_range(tag_range)) if tag_range else None
    patterns = tag_patterns(pattern)
    pool = sort_tags(tags)
    if where is not None:
        for item in patterns:
            if not any(_matches(tag, item) for tag in pool):
                raise _nothing_matched(item, pool, where, "--tags")
    return [
        tag
        for tag in pool
        if (not patterns or any(_matches(tag, item) for item in patterns))
        # TagRange leaves non-version tags outside every range
        and (window is None or window.matches(tag))
    ]
