"""Evaluate the few one-line ``static inline`` helpers of include/linux/swapops.h.

``swp_entry()``, ``swp_type()`` and ``swp_offset()`` are small functions, not macros: a local
``swp_entry_t ret;``, an assignment ``ret.val = EXPR;`` and ``return EXPR;``. This module runs
exactly that shape (declarations, assignments, ``return``) over the preprocessed header text,
with the expressions evaluated by :mod:`.cexpr` after macro expansion. A body of another shape
is an error naming the function and its line. It also lists the calls a body makes, which is how
``pte_to_swp_entry()``'s flag clearing is read.
"""

from __future__ import annotations

from collections.abc import Mapping

from kvdiff.analyzers.parse.cparse import ParsedFile, node_text, parse_c
from kvdiff.analyzers.parse.extract import find_functions
from tree_sitter import Node

from .cexpr import ULONG, CExprError, Struct, Val, _base_type, evaluate, num, tokenize
from .cpp import Preprocessor


class InlineFunctions:
    """The inline functions of one preprocessed header."""

    def __init__(self, pp: Preprocessor, path: str) -> None:
        self.pp = pp
        self.path = path
        self.parsed: ParsedFile = parse_c("\n".join(pp.active_lines(path)).encode())

    def _node(self, name: str) -> Node:
        defs = find_functions(self.parsed, name)
        if not defs:
            raise CExprError(f"{self.path} defines no function {name}() under this config")
        return defs[-1].node

    def line(self, name: str) -> int:
        return self._node(name).start_point.row + 1

    def cite(self, name: str) -> str:
        return f"{self.path}:{self.line(name)}"

    def calls(self, name: str) -> list[str]:
        """Names of the functions ``name``'s body calls, in order."""
        out: list[str] = []
        stack = [self._node(name).child_by_field_name("body")]
        while stack:
            n = stack.pop()
            if n.type == "call_expression":
                out.append(node_text(self.parsed.data, n.child_by_field_name("function")))
            stack.extend(reversed(n.children))
        return out

    def _eval(self, node: Node, env: Mapping[str, Val | Struct]) -> Val | Struct:
        from .cexpr import Evaluator

        toks = self.pp.expand(tokenize(node_text(self.parsed.data, node)))
        return Evaluator(toks, env).run()

    def call(self, name: str, args: list[Val | Struct]) -> Val | Struct:
        """The value ``name(args)`` returns."""
        fn = self._node(name)
        where = f"{self.path}:{fn.start_point.row + 1}"
        env: dict[str, Val | Struct] = dict(zip(self._params(fn), args, strict=True))
        rtype = _base_type(node_text(self.parsed.data, fn.child_by_field_name("type")).split())
        for stmt in fn.child_by_field_name("body").named_children:
            if stmt.type == "comment":
                continue
            if stmt.type == "declaration":
                for d in stmt.children_by_field_name("declarator"):
                    env[node_text(self.parsed.data, d)] = Struct("swp_entry_t", Val(0, ULONG))
            elif stmt.type == "expression_statement" and stmt.named_children[0].type == (
                "assignment_expression"
            ):
                a = stmt.named_children[0]
                left, value = a.child_by_field_name("left"), a.child_by_field_name("right")
                target = left.child_by_field_name("argument") if left.type == "field_expression" \
                    else left  # fmt: skip
                v = self._eval(value, env)
                env[node_text(self.parsed.data, target)] = (
                    Struct("swp_entry_t", Val.of(num(v).v, ULONG)) if left is not target else v
                )
            elif stmt.type == "return_statement" and stmt.named_children:
                v = self._eval(stmt.named_children[0], env)
                return Val.of(num(v).v, rtype) if hasattr(rtype, "bits") else v
            else:
                raise CExprError(f"{where}: {name}() has a statement kvdiff does not evaluate")
        raise CExprError(f"{where}: {name}() returns nothing kvdiff can evaluate")

    def _params(self, fn: Node) -> list[str]:
        decl = fn.child_by_field_name("declarator")
        while decl is not None and decl.type != "function_declarator":
            decl = decl.child_by_field_name("declarator")
        out = []
        for p in decl.child_by_field_name("parameters").named_children:
            d = p.child_by_field_name("declarator")
            if d is not None:
                out.append(node_text(self.parsed.data, d))
        return out


def evaluate_expr(pp: Preprocessor, text: str, env: Mapping[str, Val | Struct]) -> Val:
    return evaluate(pp.expand(tokenize(text)), env)
