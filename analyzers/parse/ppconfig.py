"""Preprocessor conditionals inside a function body, resolved one configuration at a time.

tree-sitter parses ``#if``/``#ifdef`` arms as nodes only when each arm holds whole statements.
Kernel code also lets an arm split a statement: ``} else`` in one arm and ``if (migration) {``
in the next (``try_to_unmap_one`` in 2.6.18-2.6.28, under ``#ifdef CONFIG_MIGRATION``). Such a
function is parsed once per value of the few symbols those directives test. Each parse sees the
source with the directive lines and the inactive arms blanked: every byte except newlines becomes
a space, so byte offsets and line numbers stay those of the real file.

Conditions are read, never executed: ``defined X``, ``defined(X)``, ``IS_ENABLED(X)`` (and
``IS_BUILTIN``/``IS_REACHABLE``), a bare ``X``, ``!``, ``&&``, ``||``, parentheses and integer
constants. Any other expression (``LINUX_VERSION_CODE >= KERNEL_VERSION(…)``) is one opaque symbol:
its normalized text, true or false as a whole.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

# Symbols whose every combination is parsed; beyond it, all-on, all-off and each one flipped.
MAX_FULL_SYMBOLS = 4
_DIRECTIVE = re.compile(rb"^[ \t]*#[ \t]*(ifdef|ifndef|if|elifdef|elifndef|elif|else|endif)\b(.*)$")
_TOKEN = re.compile(r"\s*(\|\||&&|!|\(|\)|[A-Za-z_]\w*|\d\w*)")
_TESTS = ("IS_ENABLED", "IS_BUILTIN", "IS_REACHABLE")
_BLOCK_COMMENT = re.compile(r"/\*.*?(\*/|$)", re.S)
# What follows a directive's '#' in the file's bytes (a backslash-newline reads as a blank
# once the lines are joined): a cheap test before a line is joined and matched.
_AFTER_HASH = re.compile(
    rb"(?:[ \t]|\\\r*\n)*(?:ifdef|ifndef|if|elifdef|elifndef|elif|else|endif)\b"
)

# An expression: ("const", bool) | ("sym", name) | ("not", e) | ("and", (e, …)) | ("or", (e, …))
Expr = tuple


@dataclass(frozen=True)
class Directive:
    kind: str  # ifdef | ifndef | if | elif | elifdef | elifndef | else | endif
    condition: str  # the text after the keyword, whitespace collapsed, comments dropped
    line: int  # 0-based row of the '#'
    start_byte: int  # the directive's first byte ... (line start)
    end_byte: int  # ... up to its last newline, continuation lines included


@dataclass(frozen=True)
class Arm:
    directive: Directive
    expr: Expr  # when this arm is taken, given that no earlier arm was
    end_byte: int  # where the arm's code ends: the next directive of the group starts there


@dataclass(frozen=True)
class Group:
    """One ``#if`` … ``#endif``, its arms in order and the groups nested in them."""

    arms: tuple[Arm, ...]
    endif: Directive
    inner: tuple[Group, ...]

    @property
    def first_line(self) -> int:
        return self.arms[0].directive.line


def _strip_comments(text: str) -> str:
    if "/*" in text:
        text = _BLOCK_COMMENT.sub(" ", text)
    return " ".join(text.split("//", 1)[0].split())


def scan_directives(data: bytes, start: int, end: int) -> list[Directive]:
    """Conditional directives on the lines of ``data[start:end]`` outside block comments
    (``start`` is read as a line start). ``tests/ppscan_reference.py`` is the line-by-line
    reading this equals: a ``#`` outside comments with only blanks and backslash-newlines
    before it on its logical line is checked there with ``_DIRECTIVE``."""
    found: list[Directive] = []
    comment = _next_comment(data, start, end)  # the first one not ending before the '#'
    row, row_at = data.count(b"\n", 0, start), start
    hash_at = data.find(b"#", start, end)
    while hash_at >= 0:
        while comment is not None and comment[1] <= hash_at:
            comment = _next_comment(data, comment[1], end)
        if comment is not None and comment[0] < hash_at:  # in a comment: look past it
            hash_at = data.find(b"#", comment[1], end)
            continue
        line_start = None
        if _AFTER_HASH.match(data, hash_at + 1, end):
            line_start = _line_start(data, start, hash_at)
        directive = None if line_start is None else _directive_at(data, line_start, end)
        if directive is not None:
            row += data.count(b"\n", row_at, line_start)
            row_at = line_start
            kind, condition, line_end = directive
            found.append(Directive(kind, condition, row, line_start, line_end))
        hash_at = data.find(b"#", hash_at + 1, end)
    return found


def _next_comment(data: bytes, at: int, end: int) -> tuple[int, int] | None:
    """The first comment from ``at`` on, as a line-by-line reading meets them (strings are not
    tracked): ``/*`` to the first ``*/`` or ``end``; ``//`` to the end of its logical line (a
    physical line ending in a backslash and CRs goes on to the next)."""
    i = data.find(b"/", at, end)
    while i >= 0:
        c = data[i + 1] if i + 1 < end else 0
        if c == 0x2A:  # '*'
            close = data.find(b"*/", i + 2, end)
            return i, end if close < 0 else close + 2
        if c == 0x2F:  # '/'
            nl = data.find(b"\n", i + 2, end)
            while nl >= 0:
                j = nl - 1
                while data[j] == 0x0D:
                    j -= 1
                if data[j] != 0x5C:
                    return i, nl
                nl = data.find(b"\n", nl + 1, end)
            return i, end
        i = data.find(b"/", i + 1, end)
    return None


def _line_start(data: bytes, start: int, at: int) -> int | None:
    """Where the logical line of the ``#`` at ``at`` starts when only blanks and
    backslash-newlines precede it on that line (``start`` counts as a line start), else None."""
    i = at - 1
    while i >= start:
        c = data[i]
        if c in b" \t":
            i -= 1
            continue
        if c != 0x0A:
            return None
        j = i - 1
        while j >= start and data[j] == 0x0D:
            j -= 1
        if j < start or data[j] != 0x5C:
            return i + 1  # a newline that ends a logical line
        i = j - 1  # a backslash-newline: the same logical line goes on before it
    return start


def _directive_at(data: bytes, pos: int, end: int) -> tuple[str, str, int] | None:
    """Kind, condition and end (after its last newline) of the directive whose logical line
    starts at ``pos``, continuation lines joined as a space, if it is one."""
    nl = data.find(b"\n", pos, end)
    line_end = end if nl < 0 else nl + 1
    line = data[pos:line_end].rstrip(b"\r\n")
    while line.endswith(b"\\") and line_end < end:
        nl = data.find(b"\n", line_end, end)
        nxt = end if nl < 0 else nl + 1
        line = line[:-1] + b" " + data[line_end:nxt].rstrip(b"\r\n")
        line_end = nxt
    match = _DIRECTIVE.match(line)
    if match is None:
        return None
    cond = _strip_comments(match.group(2).decode("utf-8", errors="replace"))
    return match.group(1).decode(), cond, line_end


def build_groups(directives: list[Directive]) -> list[Group] | None:
    """The ``#if`` groups of ``directives``, outermost first; None when they do not balance."""
    stack: list[tuple[list[Arm], list[Group]]] = []
    top: list[Group] = []
    for d in directives:
        if d.kind in ("if", "ifdef", "ifndef"):
            stack.append(([], []))
        if not stack:
            return None  # #elif/#else/#endif whose #if is outside the function
        arms, inner = stack[-1]
        if arms:
            arms[-1] = Arm(arms[-1].directive, arms[-1].expr, d.start_byte)
        if d.kind == "endif":
            stack.pop()
            (stack[-1][1] if stack else top).append(Group(tuple(arms), d, tuple(inner)))
            continue
        if arms and arms[-1].directive.kind == "else":
            return None  # an arm after #else
        expr = parse_condition(d.kind, d.condition)
        arms.append(Arm(d, expr, d.end_byte))
    return None if stack else top


def parse_condition(kind: str, text: str) -> Expr:
    """The expression an ``#ifdef``/``#ifndef``/``#if``/``#elif`` tests (``#else``: true)."""
    if kind == "else":
        return ("const", True)
    if kind in ("ifdef", "ifndef", "elifdef", "elifndef"):
        name = text.split()[0] if text.split() else text
        return ("sym", name) if kind.endswith("ifdef") else ("not", ("sym", name))
    tokens = _tokens(text)
    if tokens is not None:
        parser = _ExprParser(tokens)
        expr = parser.expr()
        if expr is not None and parser.pos == len(tokens):
            return expr
    return ("sym", text)  # opaque: the whole condition is one symbol


def _tokens(text: str) -> list[str] | None:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            if text[pos:].strip():
                return None
            break
        out.append(m.group(1))
        pos = m.end()
    return out


class _ExprParser:
    """Recursive descent over ``||``, ``&&``, ``!``, parentheses and the atoms the module
    docstring lists; any other token makes the whole condition opaque."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.pos = tokens, 0

    def peek(self, ahead: int = 0) -> str:
        i = self.pos + ahead
        return self.tokens[i] if i < len(self.tokens) else ""

    def expr(self) -> Expr | None:
        return self._binary("||", "or", self._and)

    def _and(self) -> Expr | None:
        return self._binary("&&", "and", self._unary)

    def _binary(self, op: str, kind: str, operand) -> Expr | None:
        items = [operand()]
        while self.peek() == op:
            self.pos += 1
            items.append(operand())
        if any(i is None for i in items):
            return None
        return items[0] if len(items) == 1 else (kind, tuple(items))

    def _unary(self) -> Expr | None:
        tok = self.peek()
        if tok == "!":
            self.pos += 1
            inner = self._unary()
            return None if inner is None else ("not", inner)
        if tok == "(":
            self.pos += 1
            inner = self.expr()
            if inner is None or self.peek() != ")":
                return None
            self.pos += 1
            return inner
        return self._atom(tok)

    def _atom(self, tok: str) -> Expr | None:
        if tok[:1].isdigit():
            self.pos += 1
            return ("const", tok.rstrip("uUlL") not in ("0", "0x0"))
        if tok in ("defined", *_TESTS):
            self.pos += 1
            if self.peek() == "(" and self.peek(2) == ")":
                name = self.peek(1)
                self.pos += 3
            elif tok == "defined":
                name = self.peek()
                self.pos += 1
            else:
                return None
            return ("sym", name) if name[:1].isalpha() or name[:1] == "_" else None
        if tok[:1].isalpha() or tok[:1] == "_":
            if self.peek(1) == "(":
                return None  # a function-like macro: opaque
            self.pos += 1
            return ("sym", tok)
        return None


def evaluate(expr: Expr, values: dict[str, bool]) -> bool:
    kind, arg = expr
    if kind == "const":
        return arg
    if kind == "sym":
        return values.get(arg, True)
    if kind == "not":
        return not evaluate(arg, values)
    if kind == "and":
        return all(evaluate(e, values) for e in arg)
    return any(evaluate(e, values) for e in arg)


def symbols(expr: Expr) -> list[str]:
    """The symbols ``expr`` tests, in order of first appearance."""
    kind, arg = expr
    if kind == "const":
        return []
    if kind == "sym":
        return [arg]
    if kind == "not":
        return symbols(arg)
    return list(dict.fromkeys(s for e in arg for s in symbols(e)))


def render(expr: Expr, negate: bool = False) -> list[str]:
    """``expr`` as requirement items (a conjunction): ``X``, ``!X`` or a whole expression."""
    kind, arg = expr
    if kind == "const":
        return [] if arg != negate else ["0"]
    if kind == "not":
        return render(arg, not negate)
    if kind == "and" and not negate:
        return [item for e in arg for item in render(e)]
    if kind == "or" and negate:
        return [item for e in arg for item in render(e, True)]
    text = _text(expr)
    if not negate:
        return [text]
    return [f"!{text}" if kind == "sym" and _is_name(text) else f"!({text})"]


def _is_name(text: str) -> bool:
    return re.fullmatch(r"[A-Za-z_]\w*", text) is not None


def _text(expr: Expr, outer: str = "") -> str:
    kind, arg = expr
    if kind == "const":
        return "1" if arg else "0"
    if kind == "sym":
        return arg
    if kind == "not":
        return f"!{_text(arg, 'not')}"
    op = " && " if kind == "and" else " || "
    body = op.join(_text(e, kind) for e in arg)
    return f"({body})" if outer and outer != kind else body


def arm_requirement(exprs: list[Expr], index: int) -> tuple[str, ...]:
    """What taking arm ``index`` of a group whose arms test ``exprs`` needs: every earlier
    arm's test false, this one's true."""
    items = [item for e in exprs[:index] for item in render(e, True)]
    items += render(exprs[index])
    return tuple(dict.fromkeys(items))


def directive_expr(directive: str) -> Expr:
    """The test of one directive's text (``#ifdef X``, ``#elif …``, ``#else``)."""
    m = _DIRECTIVE.match(directive.encode("utf-8", errors="replace"))
    if m is None:
        return ("sym", directive)
    return parse_condition(
        m.group(1).decode(), _strip_comments(m.group(2).decode("utf-8", "replace"))
    )


def walk_groups(groups: list[Group] | tuple[Group, ...]) -> list[Group]:
    """Every group, nested ones included, in file order."""
    out: list[Group] = []
    for g in groups:
        out.append(g)
        out.extend(walk_groups(g.inner))
    return out


def configurations(names: list[str]) -> list[dict[str, bool]]:
    """The assignments to parse, all-on first (every arm that tests a symbol as defined)."""
    if len(names) <= MAX_FULL_SYMBOLS:
        combos = itertools.product((True, False), repeat=len(names))
        return [dict(zip(names, combo, strict=True)) for combo in combos]
    on = dict.fromkeys(names, True)
    flips = [{**on, name: False} for name in names]
    return [on, dict.fromkeys(names, False), *flips]


def resolved_bytes(data: bytes, groups: list[Group], values: dict[str, bool]) -> bytearray:
    """``data`` with the directives of ``groups`` (each resolved on its own: pass nested groups
    too) and their arms that ``values`` leaves inactive blanked."""
    out = bytearray(data)
    for group in groups:
        taken = False
        for arm in group.arms:
            d = arm.directive
            blank(out, d.start_byte, d.end_byte)
            on = not taken and evaluate(arm.expr, values)
            taken = taken or on
            if not on:
                blank(out, d.end_byte, arm.end_byte)
        blank(out, group.endif.start_byte, group.endif.end_byte)
    return out


def blank(out: bytearray, start: int, end: int) -> None:
    """Every byte of ``out[start:end]`` but newlines becomes a space."""
    if start < end:
        out[start:end] = out[start:end].translate(_BLANKS)


_BLANKS = bytes(0x0A if b == 0x0A else 0x20 for b in range(256))
