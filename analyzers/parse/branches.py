"""The branch tree of one C function, built from its tree-sitter syntax tree.

Every ``if`` / ``else if`` / ``else`` arm, ``switch`` arm, loop and preprocessor arm inside the
function becomes a :class:`Branch`, nested as in the code. Each branch records its condition
(verbatim and whitespace-collapsed), its real line span, its nesting path and the effects of the
statements that belong to it directly (calls, PTE writes, swap/migration entry constructors,
assignments to the return variable, and exits). Statements of nested branches belong to those
branches, so an effect is recorded exactly once; the condition of a nested ``if``, ``switch`` or
loop is evaluated before any of its arms runs, so its effects belong to the enclosing branch.

ERROR nodes (code tree-sitter could not parse, e.g. unusual kernel macros) are recorded and skipped.
"""

from __future__ import annotations

from dataclasses import replace

from kvdiff.analyzers.parse import configs, ppconfig
from kvdiff.analyzers.parse.branchtypes import (
    Assignment,
    Branch,
    BranchTree,
    Call,
    Effects,
    Exit,
    label,
    normalize,
)
from kvdiff.analyzers.parse.cparse import ParsedFile, node_text
from kvdiff.analyzers.parse.extract import FunctionDef
from tree_sitter import Node

__all__ = [
    "ENTRY_CONSTRUCTORS",
    "PTE_WRITERS",
    "Assignment",
    "Branch",
    "BranchTree",
    "Call",
    "Effects",
    "Exit",
    "build_tree",
    "label",
    "normalize",
]

# Calls that store into a page table entry. ``ptep_*`` helpers (ptep_clear_flush,
# ptep_get_and_clear, ...) are recognised by prefix.
PTE_WRITERS: frozenset[str] = frozenset(
    {
        "set_pte",
        "set_pte_at",
        "set_pte_atomic",
        "set_huge_pte_at",
        "set_huge_swap_pte_at",
        "pte_clear",
        "set_pmd_migration_entry",
    }
)
_PTE_WRITER_PREFIXES = ("ptep_", "huge_ptep_")

# Calls that build a non-present PTE (swap, migration, hwpoison, device entries).
ENTRY_CONSTRUCTORS: frozenset[str] = frozenset(
    {
        "swp_entry",
        "swp_entry_to_pte",
        "make_migration_entry",
        "make_readable_migration_entry",
        "make_writable_migration_entry",
        "make_readable_exclusive_migration_entry",
        "make_hwpoison_entry",
        "make_device_exclusive_entry",
        "make_readable_device_private_entry",
        "make_writable_device_private_entry",
        "make_pte_marker",
        "pgoff_to_pte",
    }
)
_ENTRY_PREFIXES = ("pte_swp_mk",)

# Node types that open a nested branch rather than contributing effects to the current one.
_IF = "if_statement"
_SWITCH = "switch_statement"
_LOOPS = {"while_statement": "while", "for_statement": "for", "do_statement": "do"}
_PREPROC = {"preproc_ifdef", "preproc_if", "preproc_elif", "preproc_else", "preproc_elifdef"}
_EXITS = {
    "goto_statement": "goto",
    "return_statement": "return",
    "break_statement": "break",
    "continue_statement": "continue",
}


class _Builder:
    def __init__(self, data: bytes, return_var: str) -> None:
        self.data = data
        self.return_var = return_var
        self.next_chain = 0
        self.config: tuple[str, ...] = ()  # what the enclosing #if arms need

    def text(self, node: Node) -> str:
        return node_text(self.data, node)

    # -- branches -------------------------------------------------------------------------

    def branch(
        self,
        kind: str,
        condition_node: Node | None,
        condition: str,
        span: tuple[Node, Node],
        body: list[Node],
        body_node: Node | None,
        path: tuple[str, ...],
        chain: int = -1,
        arm: int = -1,
    ) -> Branch:
        # The root's path is empty: paths start at the first real branch.
        own = path if kind == "function" else path + (label(kind, normalize(condition)),)
        effects = _EffectsCollector(self)
        children: list[Branch] = []
        for stmt in body:
            self.statement(stmt, own, effects, children)
        first, last = span
        return Branch(
            kind=kind,
            condition=condition,
            condition_normalized=normalize(condition),
            start_line=first.start_point.row + 1,
            end_line=last.end_point.row + 1,
            path=own,
            effects=effects.freeze(),
            children=tuple(children),
            chain=chain,
            arm=arm,
            start_byte=first.start_byte,
            end_byte=last.end_byte,
            config=self.config,
            condition_node=condition_node,
            body_node=body_node,
        )

    def statement(
        self,
        node: Node,
        path: tuple[str, ...],
        effects: _EffectsCollector,
        out: list[Branch],
    ) -> None:
        """Add ``node``'s branches to ``out`` and its direct effects to ``effects``."""
        t = node.type
        if node.is_error or node.is_missing:
            return  # recorded once for the whole function by extract.error_nodes
        if t == _IF:
            # Every arm's condition is evaluated in the enclosing branch, as a loop test is:
            # `if (swap_duplicate(entry) < 0)` takes a swap reference whichever arm runs next.
            cur: Node | None = node
            while cur is not None and cur.type == _IF:
                cond = cur.child_by_field_name("condition")
                if cond is not None:
                    effects.expression(cond)
                alt = cur.child_by_field_name("alternative")
                nested = [c for c in alt.named_children if not c.is_extra] if alt else []
                cur = nested[0] if nested else None
            out.extend(self.if_chain(node, path))
        elif t == _SWITCH:
            cond = node.child_by_field_name("condition")
            if cond is not None:
                effects.expression(cond)
            out.append(self.switch(node, path))
        elif t in _LOOPS:
            cond = node.child_by_field_name("condition")
            if t == "for_statement":
                cond_text = self._for_header(node)
            else:
                cond_text = self._inner(cond) if cond is not None else ""
            body = node.child_by_field_name("body")
            if cond is not None:
                effects.expression(cond)  # the loop test runs in the enclosing branch
            out.append(
                self.branch(_LOOPS[t], cond, cond_text, (node, node), _stmts(body), body, path)
            )
        elif t in _PREPROC:
            out.extend(self.preproc(node, path))
        elif t == "function_definition":
            out.append(self.macro_loop(node, path))
        elif t == "compound_statement":
            for child in node.named_children:
                self.statement(child, path, effects, out)
        elif t == "labeled_statement":
            for child in node.named_children:
                if child.type != "statement_identifier":
                    self.statement(child, path, effects, out)
        elif t in _EXITS:
            effects.exit(node)
        else:
            effects.expression(node)

    def macro_loop(self, node: Node, path: tuple[str, ...]) -> Branch:
        """A loop macro and its block inside a body (``for_each_online_node(nid) {``), which
        the grammar reads as a nested definition: a ``for`` loop whose header is the macro."""
        body = node.child_by_field_name("body")
        end = body.start_byte if body is not None else node.end_byte
        header = self.data[node.start_byte : end].decode("utf-8", errors="replace").strip()
        return self.branch("for", None, header, (node, node), _stmts(body), body, path)

    def _inner(self, cond: Node) -> str:
        # Record the condition without the parentheses the grammar requires around it.
        if cond.type == "parenthesized_expression" and cond.named_child_count == 1:
            inner = cond.named_children[0]
            return self.text(inner)
        return self.text(cond)

    def _for_header(self, node: Node) -> str:
        body = node.child_by_field_name("body")
        end = body.start_byte if body is not None else node.end_byte
        header = self.data[node.start_byte : end].decode("utf-8", errors="replace")
        header = header.strip()
        if header.startswith("for"):
            header = header[3:].strip()
        if header.startswith("(") and header.endswith(")"):
            header = header[1:-1]
        return header

    def if_chain(self, node: Node, path: tuple[str, ...]) -> list[Branch]:
        chain = self.next_chain
        self.next_chain += 1
        arms: list[Branch] = []
        kind = "if"
        start: Node = node  # the arm starts at its `if` (or at the `else` before it)
        cur: Node | None = node
        while cur is not None:
            cond = cur.child_by_field_name("condition")
            cons = cur.child_by_field_name("consequence")
            alt = cur.child_by_field_name("alternative")
            last = cons if cons is not None else (cond if cond is not None else cur)
            arms.append(
                self.branch(
                    kind,
                    cond,
                    self._inner(cond) if cond is not None else "",
                    (start, last),
                    _stmts(cons),
                    cons,
                    path,
                    chain,
                    len(arms),
                )
            )
            cur = None
            if alt is None:
                break
            nested = [c for c in alt.named_children if not c.is_extra]
            stmt = nested[0] if nested else None
            if stmt is not None and stmt.type == _IF:
                kind, start, cur = "else if", alt, stmt
            else:
                arms.append(
                    self.branch(
                        "else", None, "", (alt, alt), _stmts(stmt), stmt, path, chain, len(arms)
                    )
                )
        return arms

    def switch(self, node: Node, path: tuple[str, ...]) -> Branch:
        chain = self.next_chain
        self.next_chain += 1
        cond = node.child_by_field_name("condition")
        body = node.child_by_field_name("body")
        cond_text = self._inner(cond) if cond is not None else ""
        own = path + (label("switch", normalize(cond_text)),)
        arms: list[Branch] = []
        effects = _EffectsCollector(self)
        for child in body.named_children if body is not None else ():
            if child.type != "case_statement":
                self.statement(child, own, effects, arms)
                continue
            value = child.child_by_field_name("value")
            stmts = [c for c in child.named_children if value is None or c != value]
            kind = "case" if value is not None else "default"
            arms.append(
                self.branch(
                    kind,
                    value,
                    self.text(value) if value is not None else "",
                    (child, child),
                    stmts,
                    child,
                    own,
                    chain,
                    len(arms),
                )
            )
        return Branch(
            kind="switch",
            condition=cond_text,
            condition_normalized=normalize(cond_text),
            start_line=node.start_point.row + 1,
            end_line=node.end_point.row + 1,
            path=own,
            effects=effects.freeze(),
            children=tuple(arms),
            start_byte=node.start_byte,
            end_byte=node.end_byte,
            config=self.config,
            condition_node=cond,
            body_node=body,
        )

    def preproc(self, node: Node, path: tuple[str, ...]) -> list[Branch]:
        """``#ifdef``/``#if``/``#elif``/``#else`` arms, each a ``preproc`` branch whose
        ``config`` (and its children's) adds what taking that arm needs."""
        arms: list[Branch] = []
        tests: list[ppconfig.Expr] = []
        outer = self.config
        cur: Node | None = node
        while cur is not None:
            alt = cur.child_by_field_name("alternative")
            directive = self._directive(cur)
            tests.append(ppconfig.directive_expr(directive))
            skip = {n.id for n in (cur.child_by_field_name("name"), alt) if n is not None}
            # #if/#elif have a condition, #ifdef/#ifndef a macro name: rules query either.
            cond = cur.child_by_field_name("condition") or cur.child_by_field_name("name")
            if cond is not None:
                skip.add(cond.id)
            body = [c for c in cur.named_children if c.id not in skip]
            # An arm ends on the line before the next directive; the last one at the #endif,
            # which only the outermost node (the #if/#ifdef) spans.
            if alt is not None:
                end = alt.start_byte
                end_line = self.data[:end].count(b"\n")
            else:
                end = node.end_byte
                end_line = node.end_point.row + 1
            need = ppconfig.arm_requirement(tests, len(tests) - 1)
            self.config = tuple(dict.fromkeys(outer + need))
            branch = self.branch("preproc", cond, directive, (cur, cur), body, cur, path)
            self.config = outer
            arms.append(replace(branch, end_line=max(branch.start_line, end_line), end_byte=end))
            cur = alt
        return arms

    def _directive(self, node: Node) -> str:
        # The directive is the node's first line, e.g. "#ifdef CONFIG_ARCH_ENABLE_THP_MIGRATION".
        first = self.data[node.start_byte : node.end_byte].split(b"\n", 1)[0]
        return first.decode("utf-8", errors="replace").strip()


def _stmts(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if node.type == "compound_statement":
        return list(node.named_children)
    return [node]


class _EffectsCollector:
    def __init__(self, builder: _Builder) -> None:
        self.b = builder
        self.calls: list[Call] = []
        self.pte_writes: list[Call] = []
        self.entries: list[Call] = []
        self.ret: list[Assignment] = []
        self.exits: list[Exit] = []

    def expression(self, node: Node) -> None:
        stack = [node]
        while stack:
            cur = stack.pop()
            if cur.is_error or cur.is_missing:
                continue
            if cur.type == "call_expression":
                self._call(cur)
            elif cur.type == "assignment_expression":
                left = cur.child_by_field_name("left")
                right = cur.child_by_field_name("right")
                if left is not None and right is not None:
                    name = self.b.text(left)
                    if name == self.b.return_var:
                        self.ret.append(
                            Assignment(name, normalize(self.b.text(right)), cur.start_point.row + 1)
                        )
            elif cur.type in _EXITS:
                self.exit(cur)
                continue
            stack.extend(reversed(cur.named_children))

    def _call(self, node: Node) -> None:
        fn = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        name = normalize(self.b.text(fn)) if fn is not None else ""
        arg_texts = tuple(
            normalize(self.b.text(a))
            for a in (args.named_children if args is not None else ())
            if a.type != "comment"
        )
        call = Call(name, arg_texts, node.start_point.row + 1)
        self.calls.append(call)
        if name in PTE_WRITERS or name.startswith(_PTE_WRITER_PREFIXES):
            self.pte_writes.append(call)
        if name in ENTRY_CONSTRUCTORS or name.startswith(_ENTRY_PREFIXES):
            self.entries.append(call)

    def exit(self, node: Node) -> None:
        kind = _EXITS[node.type]
        target = ""
        if kind == "goto":
            label_node = node.child_by_field_name("label")
            target = self.b.text(label_node) if label_node is not None else ""
        elif kind == "return":
            values = [c for c in node.named_children if c.type != "comment"]
            target = normalize(self.b.text(values[0])) if values else ""
            for v in values:
                self.expression(v)
        self.exits.append(Exit(kind, target, node.start_point.row + 1))

    def freeze(self) -> Effects:
        # Collected in pre-order, so already in file order (outer call before its arguments).
        return Effects(
            calls=tuple(self.calls),
            pte_writes=tuple(self.pte_writes),
            entries=tuple(self.entries),
            ret_assignments=tuple(self.ret),
            exits=tuple(self.exits),
        )


def build_tree(parsed: ParsedFile, fn: FunctionDef, return_var: str = "ret") -> BranchTree:
    """The branch tree of ``fn`` (found in ``parsed``); ``return_var`` names the variable whose
    assignments are recorded as return-value effects.

    When ``#if`` arms split ``fn``'s statements so that tree-sitter cannot parse them, the tree
    merges one parse per configuration of the symbols they test (``configs.py``)."""
    names, parses = configs.variants(parsed.data, fn)
    if not parses:
        builder = _Builder(fn.source or parsed.data, return_var)
        root = builder.branch(
            "function", None, "", (fn.node, fn.node), _stmts(fn.body), fn.body, ()
        )
        return BranchTree(function=fn.name, root=root, errors=fn.errors)
    roots = [
        _Builder(v.data, return_var).branch(
            "function", None, "", (v.node, v.node), _stmts(v.body), v.body, ()
        )
        for v in parses
    ]
    root = configs.merge_roots(roots, [v.values for v in parses])
    return BranchTree(
        function=fn.name,
        root=root,
        errors=configs.merged_errors(parses),
        resolved=tuple(names),
        parses=len(parses),
    )
