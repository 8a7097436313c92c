"""What the derived model needs to know about a tag besides the function: its header facts.

The interface (agreed with the header-evaluation work, ``kvdiff.analyzers.model.tagfacts``)::

    tag_facts(read, tag, config) -> TagFacts
      .constants: Mapping[str, int]   TTU_*, SWAP_*, SWP_* type numbers, MAX_SWAPFILES and the
                                      _PAGE_* masks (e.g. _PAGE_SOFT_DIRTY, which is 0 when its
                                      option is off) evaluated at the tag under the config
      .cites:     Mapping[str, str]   name -> "path:line"
      .layout     swp_entry_to_pte(type, offset), pte_to_swp_entry(pte), pte_pfn(pte),
                  decode(pte) -> Decoded
      .callers:   Mapping[str, CallerSpec]  scenario kind ("reclaim", "migration",
                  "compaction") -> function, flags, cite or assumption, applicable + reason

``read(path) -> bytes`` reads a file at the tag. The model runs on ``tagfacts`` (model/tagfacts.py:
the tag's own headers, evaluated). :func:`corpus_facts` is the second provider the oracle tests
use at the four corpus tags: it reads TTU_* and SWAP_* from the tag's include/linux/rmap.h, the
rest from the hand encoding (encoding.py). Either way the callers come from the tag's own caller
files (:func:`kvdiff.analyzers.model.callers.find_callers`). The model only reads the attributes
above (``getattr`` with defaults for the caller fields), so either provider fits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.parse.cparse import node_text, parse_c
from tree_sitter import Node

from .. import encoding as enc
from ..encoding import MODEL_TAGS, Decoded, ModelConfig

Reader = Callable[[str], bytes]


@dataclass(frozen=True)
class CallerSpec:
    """How a scenario kind reaches the per-VMA function at a tag (model/callers.py finds it)."""

    function: str
    flags: tuple[str, ...]
    source: str  # file:line of the call, or the stated assumption
    applicable: bool = True
    reason: str = ""
    # (Kconfig option, what the scenario kind means without it): a config with the option off
    # makes the scenario not applicable with that reason.
    requires: tuple[tuple[str, str], ...] = ()
    undetermined: str = ""  # the caller's flags could not be decided from the source: why


@dataclass(frozen=True)
class Layout:
    """The x86_64 swap-PTE layout of a corpus tag (encoding.py)."""

    tag: str
    config: ModelConfig

    def swp_entry_to_pte(self, swap_type: int, offset: int) -> int:
        return enc.swp_entry_to_pte(self.tag, swap_type, offset)

    def pte_to_swp_entry(self, pte: int) -> tuple[int, int]:
        return enc.pte_to_swp_entry(self.tag, pte, self.config)

    def pte_pfn(self, pte: int) -> int:
        return enc.pte_pfn(self.tag, pte)

    def decode(self, pte: int) -> Decoded:
        return enc.decode(self.tag, pte, self.config)


@dataclass(frozen=True)
class TagFacts:
    constants: Mapping[str, int]
    cites: Mapping[str, str]
    layout: Layout
    callers: Mapping[str, CallerSpec] = field(default_factory=dict)


def fact_paths() -> tuple[str, ...]:
    """The files the facts of any tag are read from: headers and callers (for prefetching)."""
    from ..tables import fact_paths as paths

    return paths()


def tag_facts(read: Reader, tag: str, config: ModelConfig) -> object:
    """The header facts of ``tag``, evaluated from its own headers (model/tagfacts.py)."""
    # Imported here: tagfacts loads the header tables, which only a model run needs.
    from .. import tagfacts

    return tagfacts.tag_facts(read, tag, config)


def _const_eval(node: Node, data: bytes, known: Mapping[str, int]) -> int | None:
    """A number, a known name, or + - * << >> | & ~ ( ) of those; None for anything else."""
    t = node.type
    if t == "number_literal":
        text = node_text(data, node).rstrip("uUlL")
        return int(text, 0) if not text.startswith("0") or text in ("0",) or "x" in text \
            else int(text, 8)  # fmt: skip
    if t == "identifier":
        return known.get(node_text(data, node))
    if t == "parenthesized_expression" and node.named_child_count == 1:
        return _const_eval(node.named_children[0], data, known)
    if t == "unary_expression":
        v = _const_eval(node.child_by_field_name("argument"), data, known)
        op = node.child_by_field_name("operator").type
        return None if v is None else {"-": -v, "~": ~v, "+": v}.get(op)
    if t == "binary_expression":
        a = _const_eval(node.child_by_field_name("left"), data, known)
        b = _const_eval(node.child_by_field_name("right"), data, known)
        if a is None or b is None:
            return None
        ops = {"+": a + b, "-": a - b, "*": a * b, "|": a | b, "&": a & b, "^": a ^ b}
        op = node.child_by_field_name("operator").type
        if op in ("<<", ">>"):
            return a << b if op == "<<" else a >> b
        return ops.get(op)
    return None


def header_constants(data: bytes, path: str) -> tuple[dict[str, int], dict[str, str]]:
    """Every ``enum`` enumerator and numeric ``#define`` of a header, with path:line."""
    parsed = parse_c(data)
    values: dict[str, int] = {}
    cites: dict[str, str] = {}
    stack = [parsed.tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "enumerator_list":
            _enumerators(node, data, path, values, cites)
            continue
        if node.type == "preproc_def" and node.child_by_field_name("value") is not None:
            name = node_text(data, node.child_by_field_name("name"))
            value_text = node_text(data, node.child_by_field_name("value")).strip()
            sub = parse_c(f"int x = {value_text};".encode()).tree.root_node
            inits = [n for n in sub.children[0].named_children if n.type == "init_declarator"]
            if inits and name not in values:
                v = _const_eval(inits[0].child_by_field_name("value"), sub.text, values)
                if v is not None:
                    values[name] = v
                    cites[name] = f"{path}:{node.start_point.row + 1}"
        stack.extend(reversed(node.children))
    return values, cites


def _enumerators(node: Node, data: bytes, path: str, values: dict, cites: dict) -> None:
    nxt = 0
    for e in node.named_children:
        if e.type != "enumerator":
            continue
        name = node_text(data, e.child_by_field_name("name"))
        value_node = e.child_by_field_name("value")
        v = nxt if value_node is None else _const_eval(value_node, data, values)
        if v is None or name in values:
            continue
        values[name] = v
        cites[name] = f"{path}:{e.start_point.row + 1}"
        nxt = v + 1


def _page_masks(tag: str, config: ModelConfig) -> dict[str, int]:
    gen5 = tag.startswith("v5")
    soft = gen5 and config.mem_soft_dirty
    uffd = tag == "v5.10.37" and config.uffd_wp
    masks = {
        "_PAGE_PRESENT": enc.P,
        "_PAGE_RW": enc.RW,
        "_PAGE_USER": enc.USER,
        "_PAGE_ACCESSED": enc.ACCESSED,
        "_PAGE_DIRTY": enc.DIRTY,
        "_PAGE_NX": enc.NX,
        "_PAGE_PROTNONE": enc.PROTNONE_2_6_7 if tag == "v2.6.7" else enc.GLOBAL_PROTNONE,
        "_PAGE_SOFT_DIRTY": enc.SOFT_DIRTY if soft else 0,
        "_PAGE_SWP_SOFT_DIRTY": enc.SWP_SOFT_DIRTY if soft else 0,
        "_PAGE_UFFD_WP": enc.UFFD_WP if uffd else 0,
        "_PAGE_SWP_UFFD_WP": enc.SWP_UFFD_WP if uffd else 0,
    }
    if not gen5:
        masks["_PAGE_FILE"] = enc.FILE
    return masks


def _swap_type_constants(tag: str, config: ModelConfig) -> dict[str, int]:
    t = enc.swap_types(tag, config)
    names = {
        "SWP_HWPOISON": t.hwpoison,
        "SWP_MIGRATION_READ": t.migration_read,
        "SWP_MIGRATION_WRITE": t.migration_write,
        "SWP_DEVICE_WRITE": t.device_write,
        "SWP_DEVICE_READ": t.device_read,
    }
    out = {name: v for name, v in names.items() if v is not None}
    out["MAX_SWAPFILES"] = t.max_swapfiles
    return out


def corpus_facts(read: Reader, tag: str, config: ModelConfig) -> TagFacts:
    """The stand-in provider for the four corpus tags (see the module docstring)."""
    if tag not in MODEL_TAGS:
        raise KvdiffError(
            f"no header facts for {tag}: without kvdiff.analyzers.model.tagfacts the derived "
            f"model knows the headers of {', '.join(MODEL_TAGS)} only; pick one of those"
        )
    constants, cites = header_constants(read("include/linux/rmap.h"), "include/linux/rmap.h")
    constants = {k: v for k, v in constants.items() if k.startswith(("TTU_", "SWAP_"))}
    constants.update(_swap_type_constants(tag, config))
    constants.update(_page_masks(tag, config))
    for name in constants:
        cites.setdefault(name, "analyzers/model/encoding.py (hand encoding of the tag)")
    return TagFacts(constants, cites, Layout(tag, config), _source_callers(read, tag))


def _source_callers(read: Reader, tag: str) -> dict[str, CallerSpec]:
    """The callers read from the tag's own mm/vmscan.c, mm/migrate.c, mm/compaction.c."""
    from ..callers import find_callers

    return find_callers(read, tag)


def _corpus_callers(tag: str, config: ModelConfig) -> dict[str, CallerSpec]:
    """The hand-written callers of scenarios.py (the reference oracle's), as specs."""
    from .. import scenarios as sc

    fn = "try_to_unmap_one"
    reclaim_flags, reclaim_src = sc._RECLAIM_FLAGS[tag]
    out = {"reclaim": CallerSpec(fn, reclaim_flags, reclaim_src)}
    if tag not in sc._MIGRATION_FLAGS:
        off = CallerSpec(fn, (), "", False, sc._NO_MIGRATION)
        return {**out, "migration": off, "compaction": off}
    if not config.migration:
        off = CallerSpec(fn, (), "", False, sc._MIGRATION_OFF)
        return {**out, "migration": off, "compaction": off}
    flags, src = sc._MIGRATION_FLAGS[tag]
    comp = (
        f"compaction: compact_zone() calls migrate_pages() at "
        f"mm/compaction.c:{sc._COMPACTION_LINE[tag]}, then {src}"
    )
    return {
        **out,
        "migration": CallerSpec(fn, flags, src),
        "compaction": CallerSpec(fn, flags, comp),
    }
