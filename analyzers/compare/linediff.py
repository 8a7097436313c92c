"""Line and intra-line diffs of two line sequences, aligned side by side.

The output is plain data (rows with a left and a right cell, filler where one side has no line,
and for changed line pairs the character ranges that differ) so that any renderer can show it.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from itertools import groupby
from pathlib import Path

from kvdiff.analyzers.analyze.resultcache import ResultCache, kvdiff_version, make_key

# Identifiers, numbers, runs of whitespace, and single punctuation characters: changed *tokens*
# are highlighted, not changed characters, which reads better for code.
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|0[xX][0-9A-Fa-f]+|\d+|\s+|.", re.DOTALL)

# Two lines of a replaced block are shown on the same row only if they are at least this
# similar; otherwise they get filler rows, which is what a reader expects of unrelated lines.
PAIR_THRESHOLD = 0.45


def tokenize(text: str) -> list[str]:
    """Split a line into diff tokens; ``"".join(tokenize(s)) == s``."""
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class Cell:
    """One side of a row: a real file line number, its text, and changed character ranges."""

    line: int
    text: str
    changed: tuple[tuple[int, int], ...] = ()  # [start, end) character offsets into text


@dataclass(frozen=True)
class Row:
    """``kind`` is "equal", "change" (both sides, differing), "delete" (left only) or "insert"."""

    kind: str
    left: Cell | None
    right: Cell | None


@dataclass(frozen=True)
class Block:
    """A maximal run of rows that are all unchanged ("equal") or all not ("change")."""

    kind: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class SideBySide:
    """Two texts aligned row by row, and how many lines were added, removed and changed."""

    rows: tuple[Row, ...]
    added: int  # lines only on the right
    removed: int  # lines only on the left
    changed: int  # rows with a line on both sides that differ

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def blocks(self) -> tuple[Block, ...]:
        # One Block per run (not one per row, growing the run's tuple: quadratic in its length).
        runs = groupby(self.rows, key=lambda row: "equal" if row.kind == "equal" else "change")
        return tuple(Block(kind, tuple(rows)) for kind, rows in runs)


def intraline(a: str, b: str) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """Character ranges of the tokens that differ between ``a`` and ``b`` (left, right)."""
    ta, tb = tokenize(a), tokenize(b)
    matcher = difflib.SequenceMatcher(None, ta, tb, autojunk=False)
    left: list[tuple[int, int]] = []
    right: list[tuple[int, int]] = []
    oa = [0]
    for tok in ta:
        oa.append(oa[-1] + len(tok))
    ob = [0]
    for tok in tb:
        ob.append(ob[-1] + len(tok))
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if i2 > i1:
            _add_range(left, a, oa[i1], oa[i2])
        if j2 > j1:
            _add_range(right, b, ob[j1], ob[j2])
    return tuple(left), tuple(right)


def _add_range(ranges: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    # Re-indentation alone is not what a reader looks for: changed whitespace at the edges of a
    # range is not highlighted (it still makes the row a "change" row).
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        return
    gap = text[ranges[-1][1] : start] if ranges else "x"
    if gap == "" or gap.isspace():
        ranges[-1] = (ranges[-1][0], end)
    else:
        ranges.append((start, end))


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.strip(), b.strip(), autojunk=False).ratio()


def _similarities(a: list[str], b: list[str]) -> list[list[float]]:
    """``_similarity(a[i], b[j])`` for every pair, where it can reach PAIR_THRESHOLD; 0.0 where
    an upper bound (``real_quick_ratio``, ``quick_ratio``) says it cannot (the alignment only
    compares a value below the threshold with the threshold). One matcher per ``b`` line: it
    keeps what it learnt about its second sequence."""
    sa = [line.strip() for line in a]
    sim = [[0.0] * len(b) for _ in a]
    for j, line in enumerate(b):
        matcher = difflib.SequenceMatcher(None, "", line.strip(), autojunk=False)
        for i, text in enumerate(sa):
            matcher.set_seq1(text)
            if (
                matcher.real_quick_ratio() >= PAIR_THRESHOLD
                and matcher.quick_ratio() >= PAIR_THRESHOLD
            ):
                sim[i][j] = matcher.ratio()
    return sim


def _align_replace(a: list[str], b: list[str]) -> list[tuple[int | None, int | None]]:
    """Pair lines of a replaced block in order, maximising total similarity (a small DP).

    Unpaired lines become one-sided rows. Blocks are small (a few dozen lines at most), so the
    quadratic table is cheap; larger ones fall back to pairing by position.
    """
    n, m = len(a), len(b)
    if n * m > 40_000:
        pairs: list[tuple[int | None, int | None]] = []
        for k in range(max(n, m)):
            pairs.append((k if k < n else None, k if k < m else None))
        return pairs
    sim = _similarities(a, b)
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            take = best[i + 1][j + 1] + sim[i][j] if sim[i][j] >= PAIR_THRESHOLD else -1.0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    out: list[tuple[int | None, int | None]] = []
    i = j = 0
    while i < n and j < m:
        if sim[i][j] >= PAIR_THRESHOLD and best[i][j] == best[i + 1][j + 1] + sim[i][j]:
            out.append((i, j))
            i += 1
            j += 1
        elif best[i][j] == best[i + 1][j]:
            out.append((i, None))
            i += 1
        else:
            out.append((None, j))
            j += 1
    out.extend((k, None) for k in range(i, n))
    out.extend((None, k) for k in range(j, m))
    return out


# Where side_by_side keeps its results between runs while a job has set one (see
# :func:`diffs_cached_in`); unset, every call computes.
_STORE: ContextVar[ResultCache | None] = ContextVar("kvdiff_linediff_store", default=None)
_KINDS = ("equal", "change", "delete", "insert")


@contextmanager
def diffs_cached_in(store: ResultCache) -> Iterator[None]:
    """Within the block, :func:`side_by_side` results are kept in ``store``, keyed by both
    texts, their first line numbers and a digest of this module and kvdiff's version."""
    token = _STORE.set(store)
    try:
        yield
    finally:
        _STORE.reset(token)


@cache
def _engine_digest() -> str:
    version = kvdiff_version()
    return hashlib.sha256(version.encode() + b"\0" + Path(__file__).read_bytes()).hexdigest()


def _text_digest(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8", "surrogatepass")).hexdigest()


def _decode(doc: dict, a: list[str], a_start: int, b: list[str], b_start: int) -> SideBySide:
    def cell(line: int | None, changed: list, lines: list[str], start: int) -> Cell | None:
        if line is None:
            return None
        if not 0 <= line - start < len(lines):
            raise ValueError("line out of range")
        ranges = tuple((int(s), int(e)) for s, e in changed) if changed else ()
        return Cell(line, lines[line - start], ranges)

    rows = []
    for kind, ll, lc, rl, rc in doc["rows"]:
        if kind not in _KINDS:
            raise ValueError(kind)
        rows.append(Row(kind, cell(ll, lc, a, a_start), cell(rl, rc, b, b_start)))
    if sum(r.left is not None for r in rows) != len(a) or sum(
        r.right is not None for r in rows
    ) != len(b):
        raise ValueError("rows do not cover both texts")
    return SideBySide(tuple(rows), int(doc["added"]), int(doc["removed"]), int(doc["changed"]))


def _encode(sbs: SideBySide) -> dict:
    def parts(c: Cell | None) -> list:
        return [None, []] if c is None else [c.line, [list(r) for r in c.changed]]

    rows = [[r.kind, *parts(r.left), *parts(r.right)] for r in sbs.rows]
    return {"rows": rows, "added": sbs.added, "removed": sbs.removed, "changed": sbs.changed}


def side_by_side(
    a_lines: list[str] | tuple[str, ...],
    a_start: int,
    b_lines: list[str] | tuple[str, ...],
    b_start: int,
) -> SideBySide:
    """Align two texts (lists of lines without newlines) whose first lines are real file lines
    ``a_start`` and ``b_start`` (through the store :func:`diffs_cached_in` set, if any)."""
    a, b = list(a_lines), list(b_lines)
    store = _STORE.get()
    if store is None:
        return _side_by_side(a, a_start, b, b_start)
    key = make_key(
        "linediff", _engine_digest(), _text_digest(a), str(a_start), _text_digest(b), str(b_start)
    )
    doc = store.get(key)
    if doc is not None:
        try:
            return _decode(doc, a, a_start, b, b_start)
        except (KeyError, TypeError, ValueError):
            pass  # a damaged entry is computed again
    found = _side_by_side(a, a_start, b, b_start)
    store.put(key, _encode(found))
    return found


def _side_by_side(a: list[str], a_start: int, b: list[str], b_start: int) -> SideBySide:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    rows: list[Row] = []
    added = removed = changed = 0
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for k in range(i2 - i1):
                rows.append(
                    Row(
                        "equal",
                        Cell(a_start + i1 + k, a[i1 + k]),
                        Cell(b_start + j1 + k, b[j1 + k]),
                    )
                )
            continue
        for pi, pj in _align_replace(a[i1:i2], b[j1:j2]):
            if pi is not None and pj is not None:
                ta, tb = a[i1 + pi], b[j1 + pj]
                lc, rc = intraline(ta, tb)
                rows.append(
                    Row(
                        "change",
                        Cell(a_start + i1 + pi, ta, lc),
                        Cell(b_start + j1 + pj, tb, rc),
                    )
                )
                changed += 1
            elif pi is not None:
                ta = a[i1 + pi]
                rows.append(Row("delete", Cell(a_start + i1 + pi, ta, _whole(ta)), None))
                removed += 1
            else:
                assert pj is not None
                tb = b[j1 + pj]
                rows.append(Row("insert", None, Cell(b_start + j1 + pj, tb, _whole(tb))))
                added += 1
    return SideBySide(tuple(rows), added=added, removed=removed, changed=changed)


def _whole(text: str) -> tuple[tuple[int, int], ...]:
    return ((0, len(text)),) if text else ()
