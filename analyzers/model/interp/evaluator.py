"""Expressions: C operators, member access, casts, ternaries and calls over abstract values.

Operators follow C (``&&``/``||`` short-circuit, comparisons give 0/1). An :class:`Unknown`
operand makes the result unknown; only a truth test (:meth:`Evaluator.truth`), a PTE write or a
return turns it into an undetermined outcome, naming what was unknown and its line.
"""

from __future__ import annotations

from collections.abc import Callable

from tree_sitter import Node

from .machine import Machine, c_int, line_of, text_of
from .values import (
    LOCAL,
    PTE_PTR,
    UNINIT,
    Entry,
    EntryVal,
    NamedInt,
    Obj,
    Opaque,
    PageRef,
    PtePointer,
    Undetermined,
    Unknown,
)

Env = dict[str, object]

_ARITH: dict[str, Callable[[int, int], int]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: int(a / b),
    "%": lambda a, b: a - b * int(a / b),
    "<<": lambda a, b: a << b,
    ">>": lambda a, b: a >> b,
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b,
    "==": lambda a, b: int(a == b),
    "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b),
    ">": lambda a, b: int(a > b),
    "<=": lambda a, b: int(a <= b),
    ">=": lambda a, b: int(a >= b),
}


def _op(node: Node) -> str:
    op = node.child_by_field_name("operator")
    return op.type if op is not None else ""


class Evaluator:
    """Evaluates expression nodes; ``call`` handles function calls (see calls.py)."""

    def __init__(self, m: Machine, call: Callable[[Evaluator, Node, Env, bool], object]) -> None:
        self.m = m
        self._call = call
        self.preproc = False  # inside #if: bare CONFIG_X names and defined() read the config

    def truth(self, value: object, node: Node) -> bool:
        if isinstance(value, Unknown):
            raise Undetermined(
                f"the condition at line {line_of(node)} needs {value.cause} "
                f"(line {value.line}), which the helper table does not know",
                value.line,
            )
        if isinstance(value, int):
            return value != 0
        if isinstance(value, Obj | PtePointer | PageRef):
            return True  # a non-NULL pointer
        raise Undetermined(
            f"the condition at line {line_of(node)} tests a value the model cannot judge "
            f"({text_of(node)})",
            line_of(node),
        )

    def eval(self, node: Node, env: Env) -> object:
        t = node.type
        handler = getattr(self, f"_e_{t}", None)
        if handler is None:
            return Unknown(f"a {t.replace('_', ' ')} ({text_of(node)})", line_of(node))
        return handler(node, env)

    # -- leaves -------------------------------------------------------------------------------
    def _e_number_literal(self, node: Node, env: Env) -> object:
        return c_int(text_of(node))

    def _e_true(self, node: Node, env: Env) -> object:
        return 1

    def _e_false(self, node: Node, env: Env) -> object:
        return 0

    def _e_null(self, node: Node, env: Env) -> object:
        return 0

    def _e_identifier(self, node: Node, env: Env) -> object:
        name = text_of(node)
        if name in env:
            return env[name]
        if self.preproc and name.startswith("CONFIG_"):
            return int(self.m.config(name, line_of(node)))
        value = self.m.constant(name)
        if value is not None:
            return NamedInt(value, name)
        helper = self.m.table.helper(name)
        if helper is not None and helper.kind in ("config", "const"):
            return self._call(self, node, env, False)
        return Unknown(f"{name}", line_of(node))

    def _e_parenthesized_expression(self, node: Node, env: Env) -> object:
        inner = [c for c in node.named_children if c.type != "comment"]
        return self.eval(inner[-1], env)

    def _e_comma_expression(self, node: Node, env: Env) -> object:
        self.eval(node.child_by_field_name("left"), env)
        return self.eval(node.child_by_field_name("right"), env)

    def _e_cast_expression(self, node: Node, env: Env) -> object:
        return self.eval(node.child_by_field_name("value"), env)

    def _e_call_expression(self, node: Node, env: Env) -> object:
        return self._call(self, node, env, False)

    def _e_preproc_defined(self, node: Node, env: Env) -> object:
        names = [c for c in node.named_children if c.type == "identifier"]
        return int(self.m.config(text_of(names[0]), line_of(node))) if names else 0

    # -- operators ----------------------------------------------------------------------------
    def _e_unary_expression(self, node: Node, env: Env) -> object:
        v = self.eval(node.child_by_field_name("argument"), env)
        op = _op(node)
        if op == "!":
            if isinstance(v, Unknown):
                return v
            return int(not self.truth(v, node))
        if isinstance(v, int):
            return {"-": -v, "~": ~v, "+": v}[op]
        return v if isinstance(v, Unknown) else Unknown(f"{op} on {v!r}", line_of(node))

    def _e_binary_expression(self, node: Node, env: Env) -> object:
        op = _op(node)
        left = self.eval(node.child_by_field_name("left"), env)
        if op in ("&&", "||"):
            if isinstance(left, Unknown):
                return left
            lt = self.truth(left, node)
            if (op == "&&" and not lt) or (op == "||" and lt):
                return int(lt)
            right = self.eval(node.child_by_field_name("right"), env)
            return right if isinstance(right, Unknown) else int(self.truth(right, node))
        right = self.eval(node.child_by_field_name("right"), env)
        return self.arith(op, left, right, node)

    def arith(self, op: str, left: object, right: object, node: Node) -> object:
        for v in (left, right):
            if isinstance(v, Unknown):
                return v
        if isinstance(left, int) and isinstance(right, int):
            return _ARITH[op](int(left), int(right))
        if isinstance(left, Obj) and left.kind == "page" and isinstance(right, int) and op in "+-":
            left = PageRef(left, 0)
        if isinstance(left, PageRef) and isinstance(right, int) and op in ("+", "-"):
            delta = left.delta + (right if op == "+" else -right)
            return left.page if delta == 0 else PageRef(left.page, delta)
        if op in ("==", "!=") and isinstance(left, Obj | PtePointer) and right == 0:
            return int(op == "!=")
        return Unknown(f"'{text_of(node)}'", line_of(node))

    def _e_conditional_expression(self, node: Node, env: Env) -> object:
        cond = node.child_by_field_name("condition")
        taken = self.truth(self.eval(cond, env), cond)
        arm = node.child_by_field_name("consequence" if taken else "alternative")
        return self.eval(arm, env)

    # -- memory -------------------------------------------------------------------------------
    def _e_field_expression(self, node: Node, env: Env) -> object:
        base = self.eval(node.child_by_field_name("argument"), env)
        name = text_of(node.child_by_field_name("field"))
        if isinstance(base, Entry) and name == "val":
            return EntryVal(base.type, base.offset)
        if isinstance(base, Obj) and name in base.fields:
            return base.fields[name]
        if isinstance(base, Unknown):
            return base
        return Unknown(f"the member {text_of(node)}", line_of(node))

    def _e_pointer_expression(self, node: Node, env: Env) -> object:
        arg = node.child_by_field_name("argument")
        if _op(node) == "&":
            v = self.eval(arg, env)
            return v if isinstance(v, Obj) else Opaque(f"&{text_of(arg)}")
        v = self.eval(arg, env)
        if isinstance(v, PtePointer):
            return self.m.pte
        if isinstance(v, Unknown):
            return v
        return Unknown(f"*{text_of(arg)}", line_of(node))

    def assign_to(self, target: Node, value: object, env: Env) -> None:
        if target.type == "identifier":
            env[text_of(target)] = value
            return
        if target.type == "pointer_expression" and _op(target) == "*":
            self.write_pte(self.eval(target.child_by_field_name("argument"), env), value, target)
            return
        if target.type == "field_expression":
            base = self.eval(target.child_by_field_name("argument"), env)
            if isinstance(base, Obj):
                field = text_of(target.child_by_field_name("field"))
                old = base.fields.get(field)
                base.fields[field] = value
                if not base.kind.startswith(LOCAL):
                    self.m.effect(f"{text_of(target)}: {old} -> {value}", line_of(target))
                return
        raise Undetermined(
            f"the assignment to {text_of(target)} at line {line_of(target)} is outside the model",
            line_of(target),
        )

    def write_pte(self, ptr: object, value: object, node: Node) -> None:
        if not isinstance(ptr, PtePointer):
            raise Undetermined(
                f"a store through {text_of(node)} (line {line_of(node)})", line_of(node)
            )
        if isinstance(value, Unknown):
            raise Undetermined(
                f"the PTE written at line {line_of(node)} depends on {value.cause} "
                f"(line {value.line}), which the helper table does not know",
                value.line,
            )
        if not isinstance(value, int):
            raise Undetermined(
                f"line {line_of(node)} writes a {type(value).__name__} into the PTE", line_of(node)
            )
        self.m.pte = int(value)

    def _e_assignment_expression(self, node: Node, env: Env) -> object:
        target = node.child_by_field_name("left")
        value = self.eval(node.child_by_field_name("right"), env)
        op = _op(node)
        if op != "=":
            value = self.arith(op[:-1], self.eval(target, env), value, node)
        self.assign_to(target, value, env)
        return value

    def _e_update_expression(self, node: Node, env: Env) -> object:
        target = node.child_by_field_name("argument")
        old = self.eval(target, env)
        new = self.arith("+" if _op(node) == "++" else "-", old, 1, node)
        self.assign_to(target, new, env)
        prefix = node.children[0].type in ("++", "--")
        return new if prefix else old

    def _e_initializer_list(self, node: Node, env: Env) -> object:
        fields: dict[str, object] = {}
        for pair in node.named_children:
            if pair.type != "initializer_pair":
                return Unknown(f"the initialiser {text_of(node)}", line_of(node))
            designator = pair.named_children[0]
            fname = text_of(designator).lstrip(".").strip()
            fields[fname] = self.eval(pair.child_by_field_name("value"), env)
        return Obj("struct", fields)


__all__ = ["UNINIT", "PTE_PTR", "Env", "Evaluator"]
