"""Named numbers of the swap headers: rmap.h's TTU_*/SWAP_* and swap.h's reserved swap types.

Both are read generically. rmap.h: every enumerator (in order, implicit values counted as C
does) and every object-like ``#define`` named ``TTU_*`` or ``SWAP_*``. swap.h: every ``SWP_*`` macro
whose value is defined from ``MAX_SWAPFILES`` is a reserved swap type (``SWP_HWPOISON``,
``SWP_MIGRATION_*``, ``SWP_DEVICE_*``, ``SWP_PTE_MARKER``, and whatever a later release adds);
the ``*_NUM`` counts are not types. Which kind a type is comes from headers.toml [types].
"""

from __future__ import annotations

from collections.abc import Mapping

from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.parse.cparse import node_text, parse_c

from .cexpr import CExprError, Val, evaluate, tokenize
from .cpp import Preprocessor
from .swaplayout import SwapType

_PREFIXES = ("TTU_", "SWAP_")


def rmap_constants(pp: Preprocessor, path: str) -> tuple[dict[str, int], dict[str, str]]:
    """TTU_* and SWAP_* of rmap.h under the config, with path:line."""
    parsed = parse_c("\n".join(pp.active_lines(path)).encode())
    env: dict[str, Val] = {}
    cites: dict[str, str] = {}
    stack = [parsed.tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "enumerator_list":
            nxt = 0
            for e in node.named_children:
                if e.type != "enumerator":
                    continue
                name = node_text(parsed.data, e.child_by_field_name("name"))
                value_node = e.child_by_field_name("value")
                if value_node is not None:
                    text = node_text(parsed.data, value_node)
                    try:
                        nxt = evaluate(pp.expand(tokenize(text)), env).v
                    except CExprError as exc:
                        raise CExprError(f"{path}:{e.start_point.row + 1}: {name}: {exc}") from None
                env[name] = Val(nxt)
                cites[name] = f"{path}:{e.start_point.row + 1}"
                nxt += 1
            continue
        stack.extend(reversed(node.children))
    for name, m in pp.macros.items():
        if m.path == path and m.params is None and name.startswith(_PREFIXES):
            try:
                env[name] = pp.value(name, env)
            except CExprError:
                continue  # a TTU_/SWAP_ macro that is no number (none so far): not a fact
            cites[name] = m.cite
    values = {k: v.v for k, v in env.items() if k.startswith(_PREFIXES)}
    return values, {k: c for k, c in cites.items() if k in values}


def _kind(name: str, kinds: Mapping[str, str]) -> str:
    best = max((p for p in kinds if name.startswith(p)), key=len, default=None)
    return kinds[best] if best else name[len("SWP_") :].lower().replace("_", "-")


def swap_types(pp: Preprocessor, path: str, kinds: Mapping[str, str]) -> list[SwapType]:
    """The reserved swap types defined at the tag under the config, by number."""
    if "MAX_SWAPFILES" not in pp.macros:
        raise KvdiffError(f"{path} defines no MAX_SWAPFILES under this config")
    try:
        pp.value("MAX_SWAPFILES")
    except CExprError as exc:
        raise KvdiffError(
            f"MAX_SWAPFILES ({pp.macros['MAX_SWAPFILES'].cite}) cannot be evaluated: {exc}"
        ) from None
    out = []
    for name, m in sorted(pp.macros.items()):
        if not name.startswith("SWP_") or m.params is not None or name.endswith("_NUM"):
            continue
        try:
            if "MAX_SWAPFILES" not in pp.uses(name):
                continue
            number = pp.value(name).v
        except CExprError:
            continue
        kind = _kind(name, kinds)
        write = True if name.endswith("_WRITE") else (
            False if name.endswith(("_READ", "_READ_EXCLUSIVE")) else None)  # fmt: skip
        exclusive = "EXCLUSIVE" in name and "exclusive" not in kind
        out.append(SwapType(name, number, kind, write, exclusive, m.cite))
    return sorted(out, key=lambda t: t.number)
