"""Follow a caller's flag argument back through the caller's source (tree-sitter nodes).

``try_to_unmap(page, flags)`` rarely passes a literal: ``flags`` is a local initialised from the
caller's own parameter and widened with ``|=`` under an ``if``; the parameter comes from the
caller's caller; a ternary picks between two sets. :class:`FlagTracer` evaluates such an
argument to the set of flag names it carries for one small page, noting each step with its
file:line, and raises :class:`Undecided` when the source leaves a choice open (a condition
that depends on the page or on a caller it cannot see, unless model/callers.toml states the
assumption).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property, lru_cache

from kvdiff.analyzers.parse.cparse import ParsedFile, node_text, parse_c
from kvdiff.analyzers.parse.extract import FunctionDef, all_functions
from tree_sitter import Node

_WRAPPERS = ("parenthesized_expression", "cast_expression")


class Indexed:
    """A parsed caller file with its definitions (first of each name) and their calls."""

    def __init__(self, data: bytes) -> None:
        self.parsed = parse_c(data)
        self.functions: dict[str, FunctionDef] = {}
        for fn in all_functions(self.parsed):
            self.functions.setdefault(fn.name, fn)

    @cached_property
    def calls(self) -> dict[str, list[tuple[str, Node]]]:
        """Function name -> (callee, call node) in source order."""
        return {n: calls_in(self.parsed, fn.body) for n, fn in self.functions.items()}

    def callers_of(self, name: str) -> list[tuple[FunctionDef, Node]]:
        return [(self.functions[f], c) for f, calls in self.calls.items()
                for callee, c in calls if callee == name]  # fmt: skip


@lru_cache(maxsize=48)
def indexed(data: bytes) -> Indexed:
    """The index of a file's bytes (kept: a matrix asks for the same files at every scenario)."""
    return Indexed(data)


class Undecided(Exception):
    """The flag argument depends on something the source at the tag does not decide."""


def strip(node: Node) -> Node:
    """The value inside parentheses and casts: ``(void *)flags`` -> ``flags``."""
    while node.type in _WRAPPERS:
        node = node.child_by_field_name("value") or node.named_children[-1]
    return node


def _walk(node: Node | None) -> Iterator[Node]:
    stack = [node] if node is not None else []
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def calls_in(parsed: ParsedFile, body: Node | None) -> list[tuple[str, Node]]:
    """(callee name, call node) of every call by name under ``body``, in source order."""
    out = []
    for n in _walk(body):
        if n.type == "call_expression":
            fn = n.child_by_field_name("function")
            if fn is not None and fn.type == "identifier":
                out.append((node_text(parsed.data, fn), n))
    return out


def _line(node: Node) -> int:
    return node.start_point.row + 1


def _args(call: Node) -> list[Node]:
    arglist = call.child_by_field_name("arguments")
    return [a for a in arglist.named_children if a.type != "comment"] if arglist else []


def param_names(fn: FunctionDef) -> list[str]:
    decl = fn.node.child_by_field_name("declarator")
    while decl is not None and decl.type != "function_declarator":
        decl = decl.child_by_field_name("declarator")
    plist = decl.child_by_field_name("parameters") if decl is not None else None
    names = []
    for p in plist.named_children if plist is not None else ():
        d = p.child_by_field_name("declarator") if p.type == "parameter_declaration" else None
        while d is not None and d.type != "identifier":
            d = d.child_by_field_name("declarator")
        names.append(d.text.decode("utf-8", "replace") if d is not None else "")
    return names


class FlagTracer:
    """Evaluate flag arguments in one caller file (see the module docstring)."""

    def __init__(self, index: Indexed, path: str, table: Mapping, param_callers: list[str]) -> None:
        self.index, self.parsed, self.path, self.table = index, index.parsed, path, table
        self.param_callers = list(param_callers)
        self.notes: list[str] = []
        self.depth = 0

    def text(self, node: Node) -> str:
        return " ".join(node_text(self.parsed.data, node).split())

    def where(self, node: Node) -> str:
        return f"{self.path}:{_line(node)}"

    def flags(self, expr: Node, fn: FunctionDef) -> frozenset[str]:
        """The flag names ``expr`` (an argument in ``fn``) carries."""
        return self._eval(expr, fn, expr.start_byte)

    def _eval(self, node: Node, fn: FunctionDef, at: int) -> frozenset[str]:
        node = strip(node)
        if node.type == "number_literal":
            value = int(self.text(node).rstrip("uUlL"), 0)
            return frozenset() if value == 0 else frozenset({str(value)})
        if node.type == "identifier":
            return self._identifier(node, fn, at)
        if node.type == "binary_expression" and node.child_by_field_name("operator").type == "|":
            left = self._eval(node.child_by_field_name("left"), fn, at)
            return left | self._eval(node.child_by_field_name("right"), fn, at)
        if node.type == "conditional_expression":
            cond = node.child_by_field_name("condition")
            taken = self.guard(cond, fn, at)
            if taken is None:
                raise Undecided(
                    f"`{self.text(node)}` at {self.where(node)} depends on "
                    f"`{self.text(cond)}`, which the source does not decide"
                )
            return self._eval(node.child_by_field_name("consequence" if taken else
                                                       "alternative"), fn, at)  # fmt: skip
        raise Undecided(f"`{self.text(node)}` at {self.where(node)} is not a flag expression")

    def _identifier(self, node: Node, fn: FunctionDef, at: int) -> frozenset[str]:
        name = self.text(node)
        decl = self._declaration(fn, name, at)
        if decl is not None:
            return self._local(decl, name, fn, at)
        params = param_names(fn)
        if name in params:
            return self._parameter(fn, params.index(name), name)
        return frozenset({name})  # a constant (TTU_*), valued from the tag's headers

    def _declaration(self, fn: FunctionDef, name: str, at: int) -> Node | None:
        """The last ``init_declarator``/declarator of local ``name`` before byte ``at``."""
        found = None
        for n in _walk(fn.body):
            if n.start_byte >= at:
                break
            if n.type == "declaration":
                for d in n.named_children:
                    ident = d.child_by_field_name("declarator") if d.type == "init_declarator" \
                        else d  # fmt: skip
                    if ident is not None and ident.type == "identifier" and \
                            self.text(ident) == name:  # fmt: skip
                        found = d
        return found

    def _local(self, decl: Node, name: str, fn: FunctionDef, at: int) -> frozenset[str]:
        value = decl.child_by_field_name("value") if decl.type == "init_declarator" else None
        flags: frozenset[str] = frozenset()
        if value is not None:
            self.notes.append(f"{name} = {self.text(value)} ({self.where(decl)})")
            flags = self._eval(value, fn, decl.start_byte)
        for n in _walk(fn.body):
            if n.start_byte >= at:
                break
            if n.type != "assignment_expression" or n.start_byte < decl.end_byte:
                continue
            left = n.child_by_field_name("left")
            if left is None or self.text(left) != name:
                continue
            flags = self._assign(n, flags, decl, fn, at)
        return flags

    def _assign(self, n: Node, flags: frozenset, decl: Node, fn: FunctionDef, at: int):
        op = n.child_by_field_name("operator").type
        right = n.child_by_field_name("right")
        applies = self._applies(n, decl, fn, at)
        if applies is False:
            return flags
        if applies is None or op not in ("|=", "="):
            raise Undecided(f"`{self.text(n)}` at {self.where(n)} depends on a condition "
                            "the source does not decide")  # fmt: skip
        self.notes.append(f"{self.text(n)} ({self.where(n)})")
        value = self._eval(right, fn, n.start_byte)
        return flags | value if op == "|=" else value

    def _applies(self, n: Node, decl: Node, fn: FunctionDef, at: int) -> bool | None:
        """Whether the enclosing ifs (not enclosing the declaration) let ``n`` run."""
        result: bool | None = True
        child, node = n, n.parent
        while node is not None and node != fn.body:
            encloses_decl = node.start_byte <= decl.start_byte < node.end_byte
            if node.type == "if_statement" and not encloses_decl:
                cond = node.child_by_field_name("condition")
                g = self.guard(cond, fn, at)
                alt = node.child_by_field_name("alternative")
                in_else = alt is not None and alt.start_byte <= child.start_byte < alt.end_byte
                g = None if g is None else (g != in_else)
                if g is False:
                    verdict = "true" if in_else else "false"
                    self.notes.append(
                        f"not `{self.text(n)}`: `{self.text(strip(cond))}` is {verdict} for "
                        f"one small page ({self.where(node)})"
                    )
                    return False
                result = None if g is None else result
            elif node.type in ("for_statement", "while_statement", "do_statement",
                               "switch_statement") and not encloses_decl:  # fmt: skip
                result = None
            child, node = node, node.parent
        return result

    def guard(self, cond: Node, fn: FunctionDef, at: int) -> bool | None:
        """A condition's value for one small page: True, False, or None (undecided)."""
        node = strip(cond)
        key = self.text(node)
        assumed = self.table.get("assume", {}).get(key)
        if assumed is not None:
            value = bool(assumed["value"])
            self.notes.append(f"assumed: `{key}` is {'true' if value else 'false'} "
                              f"({self.where(node)}): {assumed['why']}")  # fmt: skip
            return value
        if node.type == "call_expression":
            name = self.text(node.child_by_field_name("function"))
            args = _args(node)
            if name in ("likely", "unlikely") and len(args) == 1:
                return self.guard(args[0], fn, at)
            if name in self.table.get("small_page", {}).get("false", []):
                return False
            return None
        if node.type == "unary_expression" and node.child_by_field_name("operator").type == "!":
            g = self.guard(node.child_by_field_name("argument"), fn, at)
            return None if g is None else not g
        if node.type == "binary_expression":
            op = node.child_by_field_name("operator").type
            a = self.guard(node.child_by_field_name("left"), fn, at)
            b = self.guard(node.child_by_field_name("right"), fn, at)
            if op == "&&":
                return False if False in (a, b) else (None if None in (a, b) else True)
            if op == "||":
                return True if True in (a, b) else (None if None in (a, b) else False)
        return None

    def _parameter(self, fn: FunctionDef, index: int, name: str) -> frozenset[str]:
        """A parameter of ``fn``: the value its LRU caller passes (param_callers), or the one
        call site's."""
        self.depth += 1
        if self.depth > 4:
            raise Undecided(f"{name} is passed through too many callers in {self.path}")
        sites = self.index.callers_of(fn.name)
        preferred = [s for s in sites if s[0].name in self.param_callers]
        chosen = preferred[:1] or (sites if len(sites) == 1 else [])
        if not chosen:
            raise Undecided(f"{name} is {fn.name}()'s parameter and {len(sites)} call sites in "
                            f"{self.path} pass it")  # fmt: skip
        cfn, call = chosen[0]
        args = _args(call)
        if index >= len(args):
            raise Undecided(f"{cfn.name}() calls {fn.name}() without {name} ({self.where(call)})")
        self.notes.append(f"{name} = {self.text(args[index])} from {cfn.name}() "
                          f"({self.where(call)})")  # fmt: skip
        return self._eval(args[index], cfn, call.start_byte)
