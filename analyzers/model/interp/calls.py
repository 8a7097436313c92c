"""Function calls: the meaning of each helper comes from its kind in helpers.toml.

A call the table does not know evaluates to an :class:`Unknown` (undetermined once a condition
needs it); at statement level it is listed as an unmodelled effect. Either way, an unknown call
that receives the pointer to the modelled PTE could change it, so the outcome is undetermined.
"""

from __future__ import annotations

from functools import cache

from kvdiff.analyzers.parse.cparse import parse_c
from tree_sitter import Node

from .evaluator import Env, Evaluator
from .machine import line_of, text_of
from .table import Helper
from .values import (
    PTE_PTR,
    Bug,
    Entry,
    EntryVal,
    Obj,
    Opaque,
    PageRef,
    PtePointer,
    Undetermined,
    Unknown,
)


def _args(node: Node) -> list[Node]:
    if node.type != "call_expression":
        return []
    arglist = node.child_by_field_name("arguments")
    return [a for a in arglist.named_children if a.type != "comment"] if arglist else []


def call(ev: Evaluator, node: Node, env: Env, statement: bool) -> object:
    """Evaluate a call (or a bare identifier naming a config/const helper, e.g. PAGE_MIGRATION)."""
    m = ev.m
    if node.type == "identifier":
        name, arg_nodes = text_of(node), []
    else:
        fn = node.child_by_field_name("function")
        name, arg_nodes = text_of(fn), _args(node)
    line = line_of(node)
    helper = m.table.helper(name)
    if helper is None:
        args = [ev.eval(a, env) for a in arg_nodes]
        if any(isinstance(a, PtePointer) for a in args):
            raise Undetermined(
                f"{name}() at line {line} is not in the helper table and is passed the PTE "
                "pointer: it may change the PTE",
                line,
            )
        if statement:
            m.unmodelled_call(name, line)
            return 0
        return Unknown(f"{name}()", line)
    if helper.kind in _LAZY:
        return _LAZY[helper.kind](ev, helper, node, arg_nodes, env, line)
    args = [ev.eval(a, env) for a in arg_nodes]
    return _KINDS[helper.kind](ev, helper, node, args, line)


def _need(args: list, n: int, helper: Helper, line: int) -> None:
    if len(args) < n:
        raise Undetermined(f"{helper.name}() at line {line} has {len(args)} arguments", line)


def _page_of(value: object, helper: Helper, line: int) -> tuple[Obj, int]:
    if isinstance(value, Obj):
        return value, 0
    if isinstance(value, PageRef):
        return value.page, value.delta
    if isinstance(value, Unknown):
        raise Undetermined(f"{helper.name}() at line {line} reads {value.cause}", line)
    raise Undetermined(f"{helper.name}() at line {line} is not given a page", line)


def _int(value: object, helper: Helper, line: int) -> int:
    if isinstance(value, Unknown):
        raise Undetermined(
            f"{helper.name}() at line {line} needs {value.cause} (line {value.line})", line
        )
    if not isinstance(value, int):
        raise Undetermined(f"{helper.name}() at line {line} is given {value!r}, not a number", line)
    return int(value)


def _pte_ptr(args: list, helper: Helper, line: int) -> None:
    if not any(isinstance(a, PtePointer) for a in args):
        raise Undetermined(f"{helper.name}() at line {line} is not given the modelled PTE", line)


# -- kinds that evaluate their arguments first ------------------------------------------------
def _field(ev, h, node, args, line):
    _need(args, 1, h, line)
    obj, delta = _page_of(args[0], h, line)
    if h.get("config") and not ev.m.config(str(h.get("config")), line):
        return 0
    name = str(h.get("field"))
    if delta and name != "pfn":
        raise Undetermined(
            f"{h.name}() at line {line} reads a tail page (THP is not modelled)", line
        )
    if name not in obj.fields:
        raise Undetermined(f"{h.name}() at line {line}: the {obj.kind} has no {name} state", line)
    value = obj.fields[name]
    if h.get("entry") and isinstance(value, EntryVal):
        return Entry(value.type, value.offset)  # page_swap_entry(): the swp_entry_t itself
    return value + delta if name == "pfn" else value


def _set_field(ev, h, node, args, line):
    _need(args, 1, h, line)
    obj, _ = _page_of(args[0], h, line)
    obj.fields[str(h.get("field"))] = h.get("value", 1)
    ev.m.effect(f"{text_of(node)}: {h.get('field')} set", line)
    return 1


def _state(ev, h, node, args, line):
    return ev.m.state(str(h.get("read")), line)


def _const(ev, h, node, args, line):
    if h.get("assume"):
        ev.m.assume(f"{h.name}: {h.get('assume')}")
    return int(h.get("value", 0))


def _identity(ev, h, node, args, line):
    _need(args, 1, h, line)
    return args[0]


def _config(ev, h, node, args, line):
    return int(ev.m.config(str(h.get("option")), line))


def _fallible(ev, h, node, args, line):
    fails = ev.m.state(str(h.get("when")), line)
    ev.m.effect(f"{text_of(node)}{' fails' if fails else ''}", line)
    return int(h.get("fail" if fails else "ok", 0))


def _constant(ev, h: Helper, key: str, line: int) -> int:
    name = str(h.get(key))
    value = ev.m.constant(name)
    if value is None:
        raise Undetermined(f"{h.name}() at line {line}: {name} is not defined at this tag", line)
    return value


def _entry(ev, h, node, args, line):
    if h.get("page_arg") is not None:
        _need(args, int(h.get("page_arg")) + 1, h, line)
        page, delta = _page_of(args[int(h.get("page_arg"))], h, line)
        offset = int(page.fields["pfn"]) + delta
    else:
        _need(args, int(h.get("pfn_arg", 0)) + 1, h, line)
        offset = _int(args[int(h.get("pfn_arg", 0))], h, line)
    if h.get("config") and not ev.m.config(str(h.get("config")), line):
        return Entry(0, 0)  # the kernel's stub without the option: swp_entry(0, 0)
    if h.get("write_arg") is not None:
        write = ev.truth(args[int(h.get("write_arg"))], node)
        return Entry(_constant(ev, h, "type_write" if write else "type_read", line), offset)
    return Entry(_constant(ev, h, "type", line), offset)


def _entry_arg(h, args, line):
    """The one argument of an entry helper: an Entry, or Unknown passed through."""
    _need(args, 1, h, line)
    e = args[0]
    if not isinstance(e, Entry | Unknown):
        raise Undetermined(f"{h.name}() at line {line} is not given a swap entry", line)
    return e


def _entry_offset_bits(ev, h, node, args, line):
    """make_migration_entry_young()/_dirty(): the entry with the [mask] bits set in its offset,
    behind a boot-time gate the table states as [assume] (include/linux/swapops.h, 6.1+)."""
    e = _entry_arg(h, args, line)
    if isinstance(e, Unknown):
        return e
    if h.get("assume"):
        ev.m.assume(f"{h.name}: {h.get('assume')}")
    return Entry(e.type, e.offset | _constant(ev, h, "mask", line))


def _swp_entry(ev, h, node, args, line):
    _need(args, 2, h, line)
    return Entry(_int(args[0], h, line), _int(args[1], h, line))


def _entry_to_pte(ev, h, node, args, line):
    e = _entry_arg(h, args, line)
    if isinstance(e, Unknown):
        return e
    return ev.m.layout.swp_entry_to_pte(e.type, e.offset)


def _pte_to_entry(ev, h, node, args, line):
    _need(args, 1, h, line)
    return Entry(*ev.m.layout.pte_to_swp_entry(_int(args[0], h, line)))


def _entry_part(ev, h, node, args, line):
    _need(args, 1, h, line)
    e = args[0]
    if not isinstance(e, Entry | EntryVal):
        raise Undetermined(f"{h.name}() at line {line} is not given a swap entry", line)
    return e.type if h.get("part") == "type" else e.offset


def _pte_bit(ev, h, node, args, line):
    _need(args, 1, h, line)
    if isinstance(args[0], Unknown):
        return args[0]
    return int(bool(_int(args[0], h, line) & ev.m.mask(h.get("mask"), h.name, line)))


def _pte_set_bits(ev, h, node, args, line):
    _need(args, 1, h, line)
    return _int(args[0], h, line) | ev.m.mask(h.get("mask"), h.name, line)


def _pte_pfn(ev, h, node, args, line):
    _need(args, 1, h, line)
    return ev.m.layout.pte_pfn(_int(args[0], h, line))


def _pte_read(ev, h, node, args, line):
    _pte_ptr(args, h, line)
    return ev.m.pte


def _pte_get_clear(ev, h, node, args, line):
    _pte_ptr(args, h, line)
    old, ev.m.pte = ev.m.pte, 0
    ev.m.effect(f"{h.name}: the PTE is cleared", line)
    return old


def _pte_test_clear(ev, h, node, args, line):
    _pte_ptr(args, h, line)
    mask = ev.m.mask(h.get("mask"), h.name, line)
    hit = bool(ev.m.pte & mask)
    if hit:
        ev.m.pte &= ~mask
        ev.m.effect(f"{h.name}: bit {mask:#x} cleared", line)
    return int(hit)


def _pte_write(ev, h, node, args, line):
    _pte_ptr(args, h, line)
    ev.write_pte(PTE_PTR, args[-1], node)
    ev.m.effect(f"{text_of(node)}", line)
    return 0


def _find_pte(ev, h, node, args, line):
    m = ev.m
    style = h.get("style")
    if style == "offset":
        return PTE_PTR
    if style == "iterator" and (m.walk_calls or m.walk_finished):
        return 0  # one small page mapped once: the walk has nothing more to visit
    m.walk_calls += 1
    page = m.objects["page"]
    decoded = m.layout.decode(m.pte)
    kinds = ("present", "device") if h.get("accept_device") else ("present",)
    found = decoded.kind in kinds and decoded.pfn == page.fields["pfn"]
    if not found:
        m.effect(f"{h.name}() finds no PTE mapping this page", line)
        return 0
    if style == "pointer":
        return PTE_PTR
    if args and isinstance(args[0], Obj):
        args[0].fields["pte"] = PTE_PTR
        args[0].fields["address"] = m.address
    return 1


def _walk_done(ev, h, node, args, line):
    ev.m.walk_finished = True
    ev.m.effect(text_of(node), line)
    return 0


def _opaque(ev, h, node, args, line):
    return Opaque(text_of(node))


def _effect(ev, h, node, args, line):
    ev.m.effect(text_of(node), line)
    return 0


def _debug(ev, h, node, args, line):
    return 0


def _subpage(ev, h, node, args, line):
    """folio_page(folio, n): the folio's n-th page (the model's one small page: n is 0)."""
    _need(args, 2, h, line)
    page, delta = _page_of(args[0], h, line)
    n = _int(args[1], h, line) + delta
    return page if n == 0 else PageRef(page, n)


# -- kinds that decide themselves which arguments to evaluate ---------------------------------
def _declare(ev, h, node, arg_nodes, env, line):
    """A macro that declares a local (DEFINE_FOLIO_VMA_WALK(name, folio, vma, address, flags)):
    the variable named by the first argument becomes an object with [fields] bound to the
    others, plus the fixed [values]."""
    fields = list(h.get("fields", []))
    if len(arg_nodes) != len(fields) + 1 or arg_nodes[0].type != "identifier":
        raise Undetermined(f"{h.name}() at line {line} takes a name and {len(fields)} values", line)
    values = {f: ev.eval(a, env) for f, a in zip(fields, arg_nodes[1:], strict=True)}
    values.update(dict(h.get("values", {})))
    env[text_of(arg_nodes[0])] = Obj(str(h.get("struct", "struct")), values)
    return 0


def _is_enabled(ev, h, node, arg_nodes, env, line):
    if len(arg_nodes) != 1:
        raise Undetermined(f"{h.name} at line {line} wants one CONFIG_ name", line)
    return int(ev.m.config(text_of(arg_nodes[0]), line))


def _bug_on(ev, h, node, arg_nodes, env, line):
    if arg_nodes and ev.truth(ev.eval(arg_nodes[0], env), arg_nodes[0]):
        raise Bug(f"{text_of(node)} fires", line)
    return 0


def _warn(ev, h, node, arg_nodes, env, line):
    hit = bool(arg_nodes) and ev.truth(ev.eval(arg_nodes[0], env), arg_nodes[0])
    if hit:
        ev.m.effect(f"{text_of(node)}: warning", line)
    return int(hit)


@cache
def _macro_expr(expr: str) -> Node:
    tree = parse_c(f"long __kvdiff_macro = {expr};".encode()).tree
    init = tree.root_node.named_children[0].child_by_field_name("declarator")
    return init.child_by_field_name("value")


def _macro(ev, h, node, arg_nodes, env, line):
    params = list(h.get("params", []))
    if len(arg_nodes) != len(params):
        raise Undetermined(f"{h.name}() at line {line} takes {len(params)} arguments", line)
    local = {p: ev.eval(a, env) for p, a in zip(params, arg_nodes, strict=True)}
    value = ev.eval(_macro_expr(str(h.get("expr"))), local)
    if isinstance(value, Unknown):
        return Unknown(f"{h.name}() ({value.cause})", line)
    return value


_LAZY = {
    "is_enabled": _is_enabled, "bug_on": _bug_on, "warn": _warn, "macro": _macro,
    "declare": _declare,
}  # fmt: skip
_KINDS = {
    "field": _field, "set_field": _set_field, "state": _state, "const": _const,
    "identity": _identity, "config": _config, "fallible": _fallible, "entry": _entry,
    "swp_entry": _swp_entry, "entry_offset_bits": _entry_offset_bits,
    "entry_to_pte": _entry_to_pte, "pte_to_entry": _pte_to_entry,
    "entry_part": _entry_part, "pte_bit": _pte_bit, "pte_set_bits": _pte_set_bits,
    "pte_pfn": _pte_pfn, "pte_read": _pte_read, "pte_get_clear": _pte_get_clear,
    "pte_test_clear": _pte_test_clear, "pte_write": _pte_write, "find_pte": _find_pte,
    "walk_done": _walk_done, "opaque": _opaque, "effect": _effect, "debug": _debug,
    "subpage": _subpage,
}  # fmt: skip
