"""The line-by-line reading of conditional directives that ``ppconfig.scan_directives`` must
equal: each logical line (backslash-newlines joined, the backslash read as a space) is matched
against ``_DIRECTIVE`` unless a block comment is open at its start, then scanned for ``/*``,
``*/`` and ``//`` to carry that state to the next line (strings are not tracked).

This was kvdiff's scanner before the single-regex one; it is kept here as the specification
the tests compare the fast one against.
"""

from __future__ import annotations

from kvdiff.analyzers.parse.ppconfig import _DIRECTIVE, Directive, _strip_comments


def scan_directives(data: bytes, start: int, end: int) -> list[Directive]:
    """Conditional directives on the lines of ``data[start:end]`` outside block comments."""
    found: list[Directive] = []
    pos, row = start, data.count(b"\n", 0, start)
    in_comment = False
    while pos < end:
        nl = data.find(b"\n", pos, end)
        line_end = end if nl < 0 else nl + 1
        line = data[pos:line_end].rstrip(b"\r\n")
        first_row = row
        match = None if in_comment else _DIRECTIVE.match(line)
        while line.endswith(b"\\") and line_end < end:  # continuation lines
            nl = data.find(b"\n", line_end, end)
            nxt = end if nl < 0 else nl + 1
            line = line[:-1] + b" " + data[line_end:nxt].rstrip(b"\r\n")
            line_end, row = nxt, row + 1
            match = None if in_comment else _DIRECTIVE.match(line)
        if match is not None:
            cond = _strip_comments(match.group(2).decode("utf-8", errors="replace"))
            found.append(Directive(match.group(1).decode(), cond, first_row, pos, line_end))
        in_comment = _comment_state(line, in_comment)
        pos, row = line_end, row + 1
    return found


def _comment_state(line: bytes, in_comment: bool) -> bool:
    """Whether a block comment is still open after ``line`` (strings are not tracked)."""
    i = 0
    while True:
        if in_comment:
            j = line.find(b"*/", i)
            if j < 0:
                return True
            in_comment, i = False, j + 2
        else:
            j, k = line.find(b"/*", i), line.find(b"//", i)
            if j < 0 or 0 <= k < j:
                return False
            in_comment, i = True, j + 2
