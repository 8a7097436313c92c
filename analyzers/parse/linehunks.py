"""Line hunks between two versions of a file, and the exact byte edits they make.

Consecutive kernel releases change a few places of a file. :func:`line_hunks` walks both line
lists in step and, where they part, looks for the nearest place where a run of lines agrees
again. The result is always a valid edit script (every line outside a hunk is equal in both),
though not always the shortest one: a caller that proves something from the hunks only needs
them to be exact, and a longer hunk merely proves less.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

# Lines that must agree after a change before the walk trusts it has resynchronised: a lone
# blank line or "}" agrees everywhere.
_RUN = 3
# How far (in lines of either file) a resynchronisation is looked for.
_WINDOW = 400
_STEP = 64  # lines compared at once while both files agree
_NEAR = 6  # changes of up to this many lines are looked for directly, without an index


@dataclass(frozen=True)
class Hunk:
    """Old lines ``[a0, a1)`` are replaced by new lines ``[b0, b1)`` (0-based)."""

    a0: int
    a1: int
    b0: int
    b1: int


def line_hunks(a: list[bytes], b: list[bytes], limit: int | None = None) -> list[Hunk] | None:
    """The hunks turning lines ``a`` into lines ``b``, in order; None past ``limit`` hunks
    (files that different are not worth an edit script)."""
    hunks: list[Hunk] = []
    i = j = 0
    index: dict[bytes, list[int]] | None = None
    na, nb = len(a), len(b)
    while i < na and j < nb:
        if a[i : i + _STEP] == b[j : j + _STEP]:
            i, j = i + _STEP, j + _STEP
            continue
        if a[i] == b[j]:
            i, j = i + 1, j + 1
            continue
        found = _near(a, b, i, j)
        if found is None:
            if index is None:
                index = {}
                for pos, line in enumerate(b):
                    index.setdefault(line, []).append(pos)
            found = _resync(a, b, i, j, index)
        if found is None:
            break
        i2, j2 = found
        hunks.append(Hunk(i, i2, j, j2))
        if limit is not None and len(hunks) > limit:
            return None
        i, j = i2, j2
    i, j = min(i, na), min(j, nb)
    if i < na or j < nb:
        hunks.append(Hunk(i, na, j, nb))
    return hunks


def _near(a: list[bytes], b: list[bytes], i: int, j: int) -> tuple[int, int] | None:
    """A resynchronisation within ``_NEAR`` lines, cheapest first (most changes are small)."""
    for cost in range(1, _NEAR + 1):
        for di in range(cost + 1):
            i2, j2 = i + di, j + cost - di
            if i2 > len(a) or j2 > len(b) or (i2 == len(a) and j2 == len(b)):
                continue  # past an end, or both ends: the rest is the final hunk
            if a[i2 : i2 + _RUN] == b[j2 : j2 + _RUN]:
                return i2, j2
    return None


def _resync(
    a: list[bytes], b: list[bytes], i: int, j: int, index: dict[bytes, list[int]]
) -> tuple[int, int] | None:
    """The nearest ``(i2, j2)`` (least ``i2 - i + j2 - j``) from which ``_RUN`` lines agree."""
    best: tuple[int, int] | None = None
    best_cost = 2 * _WINDOW
    for di in range(min(_WINDOW, len(a) - i)):
        if di >= best_cost:
            break
        positions = index.get(a[i + di])
        if not positions:
            continue
        k = bisect_left(positions, j)
        while k < len(positions):
            pos = positions[k]
            cost = di + pos - j
            if cost >= best_cost or pos - j > _WINDOW:
                break
            if a[i + di : i + di + _RUN] == b[pos : pos + _RUN]:
                best, best_cost = (i + di, pos), cost
                break
            k += 1
    return best


def line_starts(lines: list[bytes]) -> list[int]:
    """Each line's first byte in ``b"\\n".join(lines)``, then one past the end."""
    starts = [0] * (len(lines) + 1)
    total = 0
    for k, line in enumerate(lines):
        total += len(line) + 1
        starts[k + 1] = total
    return starts


def byte_edits(
    old: bytes,
    new: bytes,
    old_lines: list[bytes] | None = None,
    starts: list[int] | None = None,
    limit: int | None = None,
) -> list[tuple[int, int, int]] | None:
    """``(start, end, new_length)``: the byte ranges of ``old`` that ``new`` replaces, in order,
    checked byte for byte; None when the files do not end alike (line hunks cannot tell a
    last newline apart) or past ``limit`` hunks. ``old_lines``/``starts``: ``old`` split at
    newlines, and :func:`line_starts` of that, when already known."""
    if old.endswith(b"\n") != new.endswith(b"\n"):
        return None
    old_lines = old.split(b"\n") if old_lines is None else old_lines
    starts = line_starts(old_lines) if starts is None else starts
    new_lines = new.split(b"\n")
    edits: list[tuple[int, int, int]] = []
    offset = 0
    pos = 0  # end of the previous hunk in old
    hunks = line_hunks(old_lines, new_lines, limit)
    if hunks is None:
        return None
    for h in hunks:
        s, e = min(starts[h.a0], len(old)), min(starts[h.a1], len(old))
        new_len = sum(len(line) + 1 for line in new_lines[h.b0 : h.b1])
        new_len = min(new_len, len(new) - (s + offset))
        # the bytes between hunks must be equal: the hunks are an exact edit script
        if old[pos:s] != new[pos + offset : s + offset]:
            return None
        edits.append((s, e, new_len))
        offset += new_len - (e - s)
        pos = e
    return edits if old[pos:] == new[pos + offset :] else None


def similar(old_lines: set[bytes], new_lines: list[bytes], sample: int = 32) -> bool:
    """Whether most of an even sample of ``new_lines`` are lines of the old file: worth
    looking for an edit script between them (other files are parsed afresh)."""
    if not new_lines:
        return False
    step = max(1, len(new_lines) // sample)
    picked = new_lines[::step]
    return sum(line in old_lines for line in picked) * 4 >= len(picked) * 3
