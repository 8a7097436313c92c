"""A restricted C preprocessor: enough of cpp to read the kernel's swap and page-table headers.

It understands ``#define`` (object-like and function-like, ``#``/``##``, variadic), ``#undef``,
``#if``/``#ifdef``/``#ifndef``/``#elif``/``#else``/``#endif`` with ``defined()``,
``IS_ENABLED()``/``IS_BUILTIN()`` and ``CONFIG_*`` names answered by a :class:`Config`, and
``#include`` of the few headers a caller lets it follow (``include`` callback). Everything else
(``#error``, ``#pragma``, ``#line``, ``#warning``) is ignored. Nothing is ever executed: macros are
expanded into tokens, which :mod:`.cexpr` evaluates.

Each macro remembers where it was defined and which ``CONFIG_`` options the conditions around
it tested (``guards``): a value that rests on an option the model does not choose can then be
stated as an assumption. :meth:`Preprocessor.active_lines` gives a file's text with the inactive
and directive lines blanked (line numbers kept), for parsing its enums and inline functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .cexpr import CExprError, Tok, Val, evaluate, tokenize


@dataclass(frozen=True)
class Macro:
    name: str
    params: tuple[str, ...] | None  # None: object-like
    body: tuple[Tok, ...]
    path: str
    line: int
    guards: frozenset[str] = frozenset()

    @property
    def cite(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class Config:
    """Kconfig answers: ``values`` (bool or int); an option not there is off, and remembered."""

    values: Mapping[str, bool | int]
    consulted: set[str] = field(default_factory=set)
    defaulted: set[str] = field(default_factory=set)

    def get(self, name: str) -> int:
        self.consulted.add(name)
        if name in self.values:
            return int(self.values[name])
        self.defaulted.add(name)
        return 0


_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.S)
_DIRECTIVE = re.compile(r"\s*#\s*([a-z_]+)\b(.*)", re.S)
_DEFINE = re.compile(r"([A-Za-z_]\w*)(\([^)]*\))?(.*)", re.S)
_INCLUDE = re.compile(r"\s*[<\"]([^>\"]+)[>\"]")


def _strip_comments(text: str) -> str:
    def repl(m: re.Match) -> str:
        s = m.group(0)
        if s.startswith(("/*", "//")):
            return "".join(c if c == "\n" else " " for c in s) if "\n" in s else " "
        return s

    return _COMMENT.sub(repl, text)


def logical_lines(text: str) -> list[tuple[int, str, int]]:
    """(first line number, text with continuations joined, number of physical lines)."""
    lines = _strip_comments(text).split("\n")
    out, i = [], 0
    while i < len(lines):
        start, buf = i, lines[i]
        while buf.endswith("\\") and i + 1 < len(lines):
            i += 1
            buf = buf[:-1] + " " + lines[i]
        out.append((start + 1, buf, i - start + 1))
        i += 1
    return out


@dataclass
class _Cond:
    parent_active: bool
    active: bool
    taken: bool
    guards: frozenset[str]


class Preprocessor:
    """Macros of the files processed, in order (see the module docstring)."""

    def __init__(
        self, config: Config, include: Callable[[str, str], str | None] | None = None
    ) -> None:
        self.config = config
        # include(name, current path) -> the path to read for `#include <name>`, or None
        self.include = include or (lambda name, current: None)
        self.macros: dict[str, Macro] = {}
        self.files: dict[str, list[str]] = {}  # path -> active lines
        self.used: set[str] = set()

    # -- processing ---------------------------------------------------------------------------
    def process(self, path: str, text: str, read: Callable[[str], str | None]) -> None:
        """Run ``text`` (the file at ``path``); ``read(path)`` gives an included file or None."""
        if path in self.files:
            return
        out = [""] * (text.count("\n") + 1)
        self.files[path] = out
        stack: list[_Cond] = []
        for line, body, _count in logical_lines(text):
            m = _DIRECTIVE.match(body)
            active = all(c.active for c in stack)
            if m is None:
                if active:
                    out[line - 1] = body
                continue
            name, rest = m.group(1), m.group(2).strip()
            if name in ("if", "ifdef", "ifndef", "elif", "else", "endif"):
                self._conditional(stack, name, rest, path, line)
            elif active and name == "define":
                self._define(rest, path, line, stack)
            elif active and name == "undef":
                self.macros.pop(rest.split()[0] if rest else "", None)
            elif active and name == "include":
                self._include(rest, path, read)
        if stack:
            raise CExprError(f"{path}: #if without #endif")

    def _include(self, rest: str, path: str, read: Callable[[str], str | None]) -> None:
        m = _INCLUDE.match(rest)
        target = self.include(m.group(1), path) if m else None
        if target is None or target in self.files:
            return
        data = read(target)
        if data is not None:
            self.process(target, data, read)

    def _conditional(self, stack: list[_Cond], name: str, rest: str, path: str, line: int) -> None:
        if name in ("if", "ifdef", "ifndef"):
            parent = all(c.active for c in stack)
            value, guards = self._test(name, rest, path, line) if parent else (False, set())
            stack.append(_Cond(parent, parent and value, parent and value, frozenset(guards)))
            return
        if not stack:
            raise CExprError(f"{path}:{line}: #{name} without #if")
        top = stack[-1]
        if name == "endif":
            stack.pop()
        elif name == "else":
            top.active = top.parent_active and not top.taken
            top.taken = True
        else:  # elif
            value, guards = (False, set())
            if top.parent_active and not top.taken:
                value, guards = self._test("if", rest, path, line)
            top.guards |= guards
            top.active = top.parent_active and not top.taken and value
            top.taken = top.taken or top.active

    def _test(self, name: str, rest: str, path: str, line: int) -> tuple[bool, set[str]]:
        before = set(self.config.consulted)
        self.config.consulted.clear()
        try:
            if name != "if":
                word = rest.split()[0] if rest else ""
                hit = self._defined(word)
                value = hit if name == "ifdef" else not hit
            else:
                try:
                    value = self._if_value(rest, path, line)
                except CExprError:
                    # A condition the restricted evaluator cannot read (a compiler builtin, a
                    # macro from a header not read): its arm is off, and every macro under it
                    # carries that fact as a guard, so a value resting on it says so.
                    self.config.consulted.add(f"#if {rest.strip()} at {path}:{line}")
                    value = False
            return value, {n for n in self.config.consulted}
        finally:
            self.config.consulted |= before

    def _defined(self, word: str) -> bool:
        if word.startswith("CONFIG_"):
            return bool(self.config.get(word))
        return word in self.macros

    def _if_value(self, text: str, path: str, line: int) -> bool:
        toks = tokenize(text)
        toks = self._replace_defined(toks)
        toks = self.expand(toks)
        toks = self._replace_defined(toks)
        names: dict[str, Val] = {}
        for t in toks:
            if t.kind == "id" and t.text not in names:
                # C: an identifier left after expansion is 0; a CONFIG_ name asks the config.
                v = self.config.get(t.text) if t.text.startswith("CONFIG_") else 0
                names[t.text] = Val(v)
        try:
            return evaluate(toks, names).v != 0
        except CExprError as exc:
            raise CExprError(f"{path}:{line}: #if {text.strip()}: {exc}") from None

    def _replace_defined(self, toks: list[Tok]) -> list[Tok]:
        """``defined X``, ``defined(X)`` and ``IS_ENABLED(CONFIG_X)`` become 0 or 1."""
        out, i = [], 0
        while i < len(toks):
            t = toks[i]
            if t.text == "defined" or (t.text in _KCONFIG_TESTS and t.text not in self.macros):
                j = i + 1
                paren = j < len(toks) and toks[j].text == "("
                word = toks[j + 1] if paren else toks[j] if j < len(toks) else None
                if word is None:
                    raise CExprError(f"{t.text} without a name")
                hit = self._defined(word.text) if t.text == "defined" else (
                    bool(self.config.get(word.text)))  # fmt: skip
                out.append(Tok("num", "1" if hit else "0"))
                i = j + (3 if paren else 1)
                continue
            out.append(t)
            i += 1
        return out

    def _define(self, rest: str, path: str, line: int, stack: list[_Cond]) -> None:
        m = _DEFINE.match(rest)
        if m is None:
            return
        name, params, body = m.group(1), m.group(2), m.group(3)
        plist = None
        if params is not None:
            plist = tuple(p.strip() for p in params[1:-1].split(",") if p.strip())
        guards = frozenset().union(*(c.guards for c in stack)) if stack else frozenset()
        try:
            toks = tuple(tokenize(body))
        except CExprError:
            return  # a macro that is not C tokens kvdiff reads (asm strings...): never needed
        self.macros[name] = Macro(name, plist, toks, path, line, guards)

    # -- expansion ----------------------------------------------------------------------------
    def expand(self, toks: list[Tok] | tuple[Tok, ...], hide: frozenset[str] = frozenset()
               ) -> list[Tok]:  # fmt: skip
        """Macro-expand ``toks`` (rescanning; a macro is not expanded inside itself)."""
        out: list[Tok] = []
        i = 0
        while i < len(toks):
            t = toks[i]
            m = self.macros.get(t.text) if t.kind == "id" and t.text not in hide else None
            if m is None or (
                m.params is not None and (i + 1 >= len(toks) or toks[i + 1].text != "(")
            ):
                out.append(t)
                i += 1
                continue
            self.used.add(m.name)
            if m.params is None:
                out += self.expand(m.body, hide | {m.name})
                i += 1
                continue
            args, i = _split_args(toks, i + 1)
            out += self.expand(self._substitute(m, args, hide), hide | {m.name})
        return out

    def _substitute(self, m: Macro, args: list[list[Tok]], hide: frozenset[str]) -> list[Tok]:
        params = list(m.params or ())
        bound: dict[str, list[Tok]] = {}
        for k, p in enumerate(params):
            if p == "...":
                rest = [tok for a in args[k:] for tok in [*a, Tok("op", ",")]][:-1]
                bound["__VA_ARGS__"] = rest
            else:
                bound[p] = args[k] if k < len(args) else []
        body = list(m.body)
        out: list[Tok] = []
        i = 0
        while i < len(body):
            t = body[i]
            if t.text == "#" and i + 1 < len(body) and body[i + 1].text in bound:
                text = " ".join(x.text for x in bound[body[i + 1].text])
                out.append(Tok("str", '"' + text + '"'))
                i += 2
                continue
            if i + 1 < len(body) and body[i + 1].text == "##" and i + 2 < len(body):
                left = bound.get(t.text, [t])
                right = bound.get(body[i + 2].text, [body[i + 2]])
                joined = "".join(x.text for x in left[-1:] + right[:1])
                out += left[:-1] + tokenize(joined) + right[1:]
                i += 3
                continue
            out += self.expand(bound[t.text], hide) if t.text in bound else [t]
            i += 1
        return out

    # -- values -------------------------------------------------------------------------------
    def value(self, name: str, names: Mapping[str, Val] | None = None) -> Val:
        """The integer value of macro ``name`` (CExprError when it has none)."""
        if name not in self.macros:
            raise CExprError(f"{name} is not defined")
        return evaluate(self.expand([Tok("id", name)]), names)

    def uses(self, name: str) -> set[str]:
        """The macros expanding ``name`` expands (``name`` included)."""
        saved, self.used = self.used, set()
        try:
            self.expand([Tok("id", name)])
            return set(self.used)
        finally:
            self.used = saved | self.used

    def call(self, name: str, args: list[list[Tok]], names: Mapping[str, object]) -> Val:
        """Evaluate the function-like macro ``name`` applied to ``args`` (token lists)."""
        toks = [Tok("id", name), Tok("op", "(")]
        for k, a in enumerate(args):
            toks += ([Tok("op", ",")] if k else []) + a
        toks.append(Tok("op", ")"))
        return evaluate(self.expand(toks), names)  # type: ignore[arg-type]

    def active_lines(self, path: str) -> list[str]:
        return list(self.files.get(path, []))


_KCONFIG_TESTS = {"IS_ENABLED", "IS_BUILTIN", "IS_REACHABLE"}


def _split_args(toks: list[Tok] | tuple[Tok, ...], i: int) -> tuple[list[list[Tok]], int]:
    """The arguments of the call whose '(' is at ``i``, and the index after its ')'."""
    args: list[list[Tok]] = [[]]
    depth = 0
    j = i + 1
    while j < len(toks):
        t = toks[j]
        if t.text == ")" and depth == 0:
            return (args if args != [[]] else []), j + 1
        if t.text == "," and depth == 0:
            args.append([])
        else:
            depth += {"(": 1, ")": -1}.get(t.text, 0)
            args[-1].append(t)
        j += 1
    raise CExprError("a macro call without its ')'")
