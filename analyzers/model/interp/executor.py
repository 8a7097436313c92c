"""Statements: blocks, declarations, if/else-if chains, switch, loops, goto/labels, #if arms.

``goto`` raises a signal that the innermost enclosing block holding the label catches; the
block resumes at the label, entering nested blocks, ``if`` arms and loop bodies if the label is
inside them. ``break``/``continue``/``return`` are signals too. Every condition evaluated is
recorded as a :class:`~.machine.Step` with its line and whether it was taken.
"""

from __future__ import annotations

from tree_sitter import Node

from .calls import call
from .evaluator import Env, Evaluator
from .machine import Machine, line_of, text_of
from .values import (
    LOCAL,
    UNINIT,
    BreakSignal,
    ContinueSignal,
    Entry,
    EntryVal,
    GotoSignal,
    Obj,
    ReturnSignal,
    Undetermined,
)

_SKIP = {"comment", ";", "{", "}", "type_definition", "preproc_call", "preproc_def"}
_PREPROC = {"preproc_ifdef", "preproc_if", "preproc_elif", "preproc_else", "preproc_elifdef"}


def _label_of(node: Node) -> str:
    label = node.child_by_field_name("label")
    return text_of(label) if label is not None else text_of(node.named_children[0])


def _has_label(node: Node, label: str) -> bool:
    if node.type == "labeled_statement" and _label_of(node) == label:
        return True
    return any(_has_label(c, label) for c in node.named_children)


def _cond_text(cond: Node) -> str:
    """The condition as the branch tree shows it: inside the if's parentheses."""
    inner = [c for c in cond.named_children if c.type != "comment"]
    if cond.type == "parenthesized_expression" and len(inner) == 1:
        return text_of(inner[0])
    return text_of(cond)


class Executor:
    def __init__(self, m: Machine) -> None:
        self.m = m
        self.ev = Evaluator(m, call)

    # -- sequences and goto -------------------------------------------------------------------
    def run_seq(
        self, stmts: list[Node], env: Env, start: int = 0, label: str | None = None
    ) -> None:
        i = start
        while i < len(stmts):
            try:
                if label is None:
                    self.exec(stmts[i], env)
                else:
                    pending, label = label, None
                    self.exec_into(stmts[i], pending, env)
                i += 1
            except GotoSignal as g:
                j = next((k for k, s in enumerate(stmts) if _has_label(s, g.label)), None)
                if j is None:
                    raise
                i, label = j, g.label

    def exec_into(self, node: Node, label: str, env: Env) -> None:
        """Execute ``node`` starting at ``label`` somewhere inside it."""
        t = node.type
        if t == "labeled_statement":
            body = [c for c in node.named_children if c.type != "statement_identifier"]
            if _label_of(node) == label:
                self.run_seq(body, env)
            else:
                self.run_seq(body, env, 0, label)
        elif t in ("compound_statement", "case_statement") or t in _PREPROC:
            kids = self._stmts(node)
            j = next(k for k, s in enumerate(kids) if _has_label(s, label))
            self.run_seq(kids, env, j, label)
        elif t == "if_statement":
            cons = node.child_by_field_name("consequence")
            arm = cons if _has_label(cons, label) else node.child_by_field_name("alternative")
            self.exec_into(arm, label, env)
        elif t == "else_clause":
            self.exec_into(node.named_children[-1], label, env)
        elif t in ("while_statement", "for_statement", "do_statement"):
            try:
                self.exec_into(node.child_by_field_name("body"), label, env)
            except BreakSignal:
                return
            except ContinueSignal:
                pass
            self._loop(node, env, resumed=True)
        else:
            raise Undetermined(f"goto {label} into a {t} (line {line_of(node)})", line_of(node))

    def _stmts(self, node: Node) -> list[Node]:
        skip = {"name", "condition", "alternative"}
        fields = {node.child_by_field_name(f).id for f in skip if node.child_by_field_name(f)}
        kids = [c for c in node.named_children if c.id not in fields and c.type not in _SKIP]
        if node.type == "case_statement":
            value = node.child_by_field_name("value")
            kids = [c for c in kids if value is None or c.id != value.id]
        return kids

    # -- statements ---------------------------------------------------------------------------
    def exec(self, node: Node, env: Env) -> None:
        self.m.tick(line_of(node))
        t = node.type
        if t in _SKIP:
            return
        if node.is_error or node.is_missing or t == "ERROR":
            raise Undetermined(
                f"line {line_of(node)} could not be parsed ({text_of(node)[:60]})", line_of(node)
            )
        handler = getattr(self, f"_s_{t}", None)
        if handler is None:
            raise Undetermined(f"a {t} at line {line_of(node)} is not supported", line_of(node))
        handler(node, env)

    def _s_compound_statement(self, node: Node, env: Env) -> None:
        self.run_seq(self._stmts(node), env)

    def _s_expression_statement(self, node: Node, env: Env) -> None:
        inner = [c for c in node.named_children if c.type != "comment"]
        if not inner:
            return
        expr = inner[0]
        if expr.type == "call_expression":
            call(self.ev, expr, env, True)
        else:
            self.ev.eval(expr, env)

    def _s_labeled_statement(self, node: Node, env: Env) -> None:
        self.run_seq([c for c in node.named_children if c.type != "statement_identifier"], env)

    def _s_declaration(self, node: Node, env: Env) -> None:
        type_text = text_of(node.child_by_field_name("type"))
        for decl in node.children_by_field_name("declarator"):
            if decl.type == "init_declarator":
                name = self._declared_name(decl.child_by_field_name("declarator"))
                value_node = decl.child_by_field_name("value")
                value = self.ev.eval(value_node, env)
                env[name] = self._typed(type_text, value, value_node)
            elif decl.type == "identifier" and type_text.startswith("struct "):
                # A struct local (struct mmu_notifier_range range;): its members are assigned
                # one by one before use.
                env[text_of(decl)] = Obj(LOCAL + type_text.removeprefix("struct ").strip(), {})
            else:
                env[self._declared_name(decl)] = UNINIT

    @staticmethod
    def _declared_name(decl: Node) -> str:
        while decl.type != "identifier":
            inner = decl.child_by_field_name("declarator")
            if inner is None:
                return text_of(decl)
            decl = inner
        return text_of(decl)

    def _typed(self, type_text: str, value: object, node: Node) -> object:
        """A brace initialiser of a swp_entry_t gives an entry; other structs an object."""
        if isinstance(value, Obj) and value.kind == "struct":
            if type_text == "swp_entry_t":
                val = value.fields.get("val")
                if isinstance(val, EntryVal):
                    return Entry(val.type, val.offset)
                raise Undetermined(
                    f"the swap entry at line {line_of(node)} is not known", line_of(node)
                )
            return Obj(type_text.removeprefix("struct ").strip(), dict(value.fields))
        return value

    def _s_if_statement(self, node: Node, env: Env) -> None:
        cond = node.child_by_field_name("condition")
        taken = self.ev.truth(self.ev.eval(cond, env), cond)
        self.m.step("if", _cond_text(cond), line_of(node), taken)
        if taken:
            self.exec(node.child_by_field_name("consequence"), env)
            return
        alt = node.child_by_field_name("alternative")
        if alt is None:
            return
        body = alt.named_children[-1] if alt.type == "else_clause" else alt
        if body.type != "if_statement":
            self.m.step("else", "", line_of(alt), True)
        self.exec(body, env)

    def _s_return_statement(self, node: Node, env: Env) -> None:
        inner = [c for c in node.named_children if c.type != "comment"]
        raise ReturnSignal(self.ev.eval(inner[0], env) if inner else None)

    def _s_break_statement(self, node: Node, env: Env) -> None:
        raise BreakSignal()

    def _s_continue_statement(self, node: Node, env: Env) -> None:
        raise ContinueSignal()

    def _s_goto_statement(self, node: Node, env: Env) -> None:
        raise GotoSignal(text_of(node.child_by_field_name("label")), line_of(node))

    # -- loops and switch ---------------------------------------------------------------------
    def _loop_cond(self, node: Node, env: Env) -> bool:
        cond = node.child_by_field_name("condition")
        if cond is None:
            return True
        taken = self.ev.truth(self.ev.eval(cond, env), cond)
        kind = node.type.removesuffix("_statement")
        return self.m.step(kind, _cond_text(cond), line_of(node), taken)

    def _loop(self, node: Node, env: Env, resumed: bool = False) -> None:
        """Run a loop; ``resumed``: one iteration was already entered through a goto."""
        body = node.child_by_field_name("body")
        update = node.child_by_field_name("update")
        first = True
        while True:
            self.m.tick(line_of(node))
            if (resumed or not first) and update is not None:
                self.ev.eval(update, env)
            skip_cond = first and not resumed and node.type == "do_statement"
            if not skip_cond and not self._loop_cond(node, env):
                return
            first = resumed = False
            try:
                self.exec(body, env)
            except BreakSignal:
                return
            except ContinueSignal:
                pass

    def _s_while_statement(self, node: Node, env: Env) -> None:
        self._loop(node, env)

    def _s_do_statement(self, node: Node, env: Env) -> None:
        self._loop(node, env)

    def _s_for_statement(self, node: Node, env: Env) -> None:
        init = node.child_by_field_name("initializer")
        if init is not None:
            if init.type == "declaration":
                self._s_declaration(init, env)
            else:
                self.ev.eval(init, env)
        self._loop(node, env)

    def _s_switch_statement(self, node: Node, env: Env) -> None:
        cond = node.child_by_field_name("condition")
        value = self.ev.eval(cond, env)
        cases = [
            c for c in node.child_by_field_name("body").named_children if c.type == "case_statement"
        ]
        start = None
        for i, case in enumerate(cases):
            v = case.child_by_field_name("value")
            if v is not None and self.ev.truth(
                self.ev.arith("==", value, self.ev.eval(v, env), v), v
            ):
                start = i
                break
        if start is None:
            start = next(
                (i for i, c in enumerate(cases) if c.child_by_field_name("value") is None), None
            )
        for i, case in enumerate(cases):
            label = text_of(case).split(":")[0]
            self.m.step("case", label, line_of(case), i == start)
            if i == start:
                break
        if start is None:
            return
        try:
            for case in cases[start:]:
                self.run_seq(self._stmts(case), env)
        except BreakSignal:
            return

    # -- preprocessor arms --------------------------------------------------------------------
    def _arm_taken(self, node: Node) -> tuple[bool, str]:
        t = node.type
        if t == "preproc_else":
            return True, "#else"
        if t in ("preproc_ifdef", "preproc_elifdef"):
            directive = node.children[0].type
            name = text_of(node.child_by_field_name("name"))
            on = (
                self.m.config(name, line_of(node))
                if name.startswith("CONFIG_")
                else (self.m.constant(name) is not None)
            )
            return (not on if directive.endswith("ndef") else on), f"{directive} {name}"
        cond = node.child_by_field_name("condition")
        self.ev.preproc = True
        try:
            taken = self.ev.truth(self.ev.eval(cond, {}), cond)
        finally:
            self.ev.preproc = False
        return taken, f"{node.children[0].type} {text_of(cond)}"

    def _preproc(self, node: Node, env: Env) -> None:
        taken, text = self._arm_taken(node)
        self.m.step("preproc", text, line_of(node), taken)
        if taken:
            self.run_seq(self._stmts(node), env)
            return
        alt = node.child_by_field_name("alternative")
        if alt is not None:
            self._preproc(alt, env)

    _s_preproc_ifdef = _preproc
    _s_preproc_if = _preproc
