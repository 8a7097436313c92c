"""The derived model's tag facts, evaluated from the tag's own headers under the chosen config.

This is the provider ``interp/facts.py`` documents: ``tag_facts(read, tag, config)``. It reads
include/linux/{swap,swapops,rmap}.h and the x86_64 page-table headers of the tag's era (the
list is data: headers.toml), runs them through the restricted preprocessor (cpp.py) with the
model's Kconfig answers, and evaluates:

- ``TTU_*`` and ``SWAP_*`` from rmap.h (``enum ttu_flags`` enumerators and ``#define``\\ s);
- ``MAX_SWAPFILES`` and every reserved swap type: any ``SWP_*`` macro whose value is defined from
  ``MAX_SWAPFILES`` (``SWP_HWPOISON``, ``SWP_MIGRATION_READ_EXCLUSIVE``, ``SWP_PTE_MARKER``...), so
  a type a release adds is found without code changes;
- the ``_PAGE_*`` masks (0 where the option is off, as the headers define them), ``PTE_PFN_MASK``,
  and the swap-PTE layout (swaplayout.py).

Nothing from the repository is executed. What rests on something the headers do not decide (a
macro from a header kvdiff does not read, a Kconfig option that is not a model option, a
boot-time choice) is stated in ``assumptions`` and in ``cites`` under ``assumed:NAME``.
"""

from __future__ import annotations

import hashlib
import inspect
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.versions import parse_version

from .cexpr import CExprError, Val
from .cpp import Config, Macro, Preprocessor
from .encoding import ModelConfig
from .headerfacts import rmap_constants, swap_types
from .inline import InlineFunctions
from .swaplayout import SwapLayout, SwapType
from .tables import header_data, header_paths

Reader = Callable[[str], bytes]


FACT_PATHS: tuple[str, ...] = header_paths()


@dataclass(frozen=True)
class TagFacts:
    constants: Mapping[str, int]
    cites: Mapping[str, str]
    layout: SwapLayout
    callers: Mapping[str, object] = field(default_factory=dict)
    assumptions: tuple[str, ...] = ()
    swap_types: tuple[SwapType, ...] = ()
    files: tuple[str, ...] = ()  # the headers read, in order


# -- reading the headers ----------------------------------------------------------------------
def _read_optional(read: Reader, path: str) -> bytes | None:
    try:
        return read(path)
    except (KvdiffError, OSError):
        return None  # not at this tag (the facts it would give fall back on headers.toml)


def _read_files(read: Reader, tag: str) -> list[tuple[str, bytes]]:
    """(path, bytes) of every header read at ``tag``, in processing order (arch, then linux).

    The linux headers are required: the reader's own error names a missing one."""
    paths = header_data()["paths"]
    linux = []
    for path in paths["linux"]:
        try:
            linux.append((path, read(path)))
        except OSError as exc:
            raise KvdiffError(f"{path} cannot be read at {tag}: {exc.strerror or exc}") from None
    arch: list[tuple[str, bytes]] = []
    for path in paths["arch_optional"]:
        data = _read_optional(read, path)
        if data is not None:
            arch.append((path, data))
    for path in paths["arch_roots"]:
        data = _read_optional(read, path)
        if data is not None:
            arch.append((path, data))
            break
    else:
        raise KvdiffError(
            f"no x86_64 page-table header at {tag}: none of {', '.join(paths['arch_roots'])} "
            "exists there; the swap-PTE layout is read from it (is this a Linux tree?)"
        )
    return [*arch, *linux]


def _resolver(available: set[str]) -> Callable[[str, str], str | None]:
    rules: Mapping[str, list[str]] = header_data()["include"]

    def resolve(name: str, current: str) -> str | None:
        candidates = [posixpath.join(posixpath.dirname(current), name)]
        for prefix, dirs in rules.items():
            if name.startswith(prefix):
                candidates += [d + name[len(prefix) :] for d in dirs]
        return next((c for c in candidates if c in available), None)

    return resolve


def _config(config: ModelConfig) -> Config:
    model = {k: int(v) for k, v in config.kconfig().items()}
    values: dict[str, int] = dict(model)
    for name, spec in dict(header_data()["config"]).items():
        if name in model:
            continue
        follows = spec.get("follows")
        values[name] = model.get(follows, 0) if follows else int(spec["value"])
    return Config(values)


def _define(pp: Preprocessor, name: str, spec: Mapping[str, object], path: str) -> None:
    from .cexpr import tokenize

    params = tuple(spec["params"]) if "params" in spec else None
    pp.macros[name] = Macro(name, params, tuple(tokenize(str(spec["value"]))), path, 0)


_MAKEFILE_VERSION = re.compile(rb"^(VERSION|PATCHLEVEL|SUBLEVEL)\s*=\s*(\d+)\s*$", re.M)


def release(read: Reader, tag: str) -> tuple[tuple[int, ...], str] | None:
    """The release (numbers) and where it was read: the top-level Makefile, else the tag."""
    path = str(header_data()["paths"]["version"])
    data = _read_optional(read, path)
    if data is not None:
        found = dict(_MAKEFILE_VERSION.findall(data[:4096]))
        if b"VERSION" in found and b"PATCHLEVEL" in found:
            nums = (
                int(found[b"VERSION"]),
                int(found[b"PATCHLEVEL"]),
                int(found.get(b"SUBLEVEL", 0)),
            )
            return nums, path
    parsed = parse_version(tag)
    return (parsed[0], "the tag name") if parsed else None


def _assumed_value(spec: Mapping[str, object], version: tuple[int, ...] | None) -> str:
    value = str(spec["value"])
    for since, later in spec.get("since", []):
        if version is None or version >= tuple(int(x) for x in str(since).split(".")):
            value = str(later)
    return value


def preprocess(
    files: list[tuple[str, bytes]], config: ModelConfig, version: tuple[int, ...] | None = None
) -> Preprocessor:
    """The headers run through the restricted preprocessor, assumed macros added last (those
    that changed between releases take ``version``'s value; the newest when it is None)."""
    texts = {p: d.decode("utf-8", errors="replace") for p, d in files}
    resolve = _resolver(set(texts))
    pp = Preprocessor(_config(config), resolve)
    data = header_data()
    for name, value in dict(data["predefined"]).items():
        _define(pp, name, {"value": value}, "<predefined>")
    assumed = dict(data["assume"])
    for name, spec in assumed.items():
        if spec.get("predefine"):
            _define(pp, name, {**spec, "value": _assumed_value(spec, version)}, "assumed")
    for path, text in texts.items():
        pp.process(path, text, texts.get)
    for name, spec in assumed.items():
        if name not in pp.macros:
            _define(pp, name, {**spec, "value": _assumed_value(spec, version)}, "assumed")
    return pp


# -- the facts --------------------------------------------------------------------------------
def _value(pp: Preprocessor, name: str, env: Mapping[str, Val]) -> int | None:
    try:
        return pp.value(name, env).v
    except CExprError:
        return None


def _masks(pp: Preprocessor, env: Mapping[str, Val]) -> dict[str, int]:
    out = {}
    for name, m in list(pp.macros.items()):
        if name.startswith("_PAGE_") and m.params is None and not name.startswith("_PAGE_BIT_"):
            v = _value(pp, name, env)
            if v is not None and v >= 0:
                out[name] = v
    return out


def _assumptions(
    pp: Preprocessor, config: ModelConfig, rel: tuple[tuple[int, ...], str] | None
) -> tuple[dict[str, str], list[str]]:
    """What the used macros rest on beyond the headers and the model's options."""
    data = header_data()
    model = set(config.kconfig())
    cites: dict[str, str] = {}
    notes: list[str] = []
    guards: set[str] = set()
    for name in sorted(pp.used):
        m = pp.macros.get(name)
        if m is None:
            continue
        guards |= m.guards
        if m.path == "assumed":
            spec = data["assume"][name]
            why = str(spec["why"])
            if spec.get("since"):
                why += (f" (release {'.'.join(map(str, rel[0]))} from {rel[1]})" if rel
                        else " (release unknown: the newest value)")  # fmt: skip
            cites[f"assumed:{name}"] = why
            notes.append(f"{name} = {' '.join(t.text for t in m.body)}: {why}")
    for option in sorted(guards):
        if option in model:
            continue
        if not option.startswith("CONFIG_"):
            cites[f"assumed:{option}"] = "an unevaluated condition: its arm is taken as off"
            notes.append(f"{option}: not evaluated, its arm taken as off")
            continue
        spec = data["config"].get(option)
        value = pp.config.values.get(option, 0)
        why = str(spec["why"]) if spec else "not a model option and not in headers.toml: off"
        text = f"{option}={'y' if value else 'n'}" if value in (0, 1) else f"{option}={value}"
        cites[f"assumed:{option}"] = f"{text}: {why}"
        notes.append(f"{text}: {why}")
    return cites, notes


def _facts(
    files: list[tuple[str, bytes]], config: ModelConfig, rel: tuple[tuple[int, ...], str] | None
) -> TagFacts:
    pp = preprocess(files, config, rel[0] if rel else None)
    paths = [p for p, _ in files]
    rmap = next(p for p in paths if p.endswith("linux/rmap.h"))
    swap = next(p for p in paths if p.endswith("linux/swap.h"))
    constants, cites = rmap_constants(pp, rmap)
    env = {k: Val(v) for k, v in constants.items()}
    types = swap_types(pp, swap, header_data()["types"])
    for t in types:
        constants[t.name], cites[t.name] = t.number, t.cite
    masks = _masks(pp, env)
    constants.update(masks)
    for name in ("MAX_SWAPFILES", "MAX_SWAPFILES_SHIFT", "PAGE_SHIFT", "PTE_PFN_MASK",
                 "SWP_PFN_MASK", "SWP_MIG_YOUNG", "SWP_MIG_DIRTY"):  # fmt: skip
        v = _value(pp, name, env)
        if v is not None:
            constants[name] = v
    for name in constants:
        m = pp.macros.get(name)
        if m is not None and name not in cites:
            cites[name] = m.cite if m.path != "assumed" else "assumed (model/headers.toml)"
    if "__swp_entry" not in pp.macros:
        raise KvdiffError(
            f"no __swp_entry() in {', '.join(paths)}: the tag keeps its swap-PTE layout in a "
            "header kvdiff does not read"
        )
    swapops = InlineFunctions(pp, next(p for p in paths if p.endswith("linux/swapops.h")))
    layout = SwapLayout(pp, swapops, masks, {t.number: t for t in types}, constants)
    layout.decode(layout.swp_entry_to_pte(0, 1))  # evaluate the layout once: its macros are used
    for name in ("__swp_entry", "__swp_type", "__swp_offset"):
        cites[name] = pp.macros[name].cite
    more, notes = _assumptions(pp, config, rel)
    cites.update(more)
    return TagFacts(constants, cites, layout, {}, tuple(notes), tuple(types), tuple(paths))


@cache
def _cached(key: str, files: tuple, config: ModelConfig, rel: tuple | None) -> TagFacts:
    return _facts(list(files), config, rel)


def tag_facts(read: Reader, tag: str, config: ModelConfig) -> TagFacts:
    """The header facts of ``tag`` under ``config`` (see the module docstring)."""
    files = _read_files(read, tag)
    key = hashlib.sha256(b"".join(p.encode() + d for p, d in files)).hexdigest()
    try:
        facts = _cached(key, tuple(files), config, release(read, tag))
    except CExprError as exc:
        read_paths = {p for p, _ in files}
        absent = [p for p in header_data()["paths"]["arch_optional"] if p not in read_paths]
        raise KvdiffError(
            f"the headers of {tag} cannot be evaluated: {exc}; read {', '.join(sorted(read_paths))}"
            f"; not at this tag: {', '.join(absent) or 'none'} (a needed header may be missing, "
            "or the restricted preprocessor does not cover a construct)"
        ) from None
    return TagFacts(
        facts.constants, facts.cites, facts.layout, _callers(read, tag, config, facts.constants),
        facts.assumptions, facts.swap_types, facts.files,
    )  # fmt: skip


# -- callers ----------------------------------------------------------------------------------
def _callers(
    read: Reader, tag: str, config: ModelConfig, constants: Mapping[str, int]
) -> Mapping[str, object]:
    """From model/callers.py when it exists (it reads the tag's callers), else the hand flags."""
    try:
        from .callers import find_callers  # type: ignore[import-not-found]
    except ImportError:
        rel = release(read, tag)
        return hand_callers(tag, config, rel[0] if rel else None, constants)
    if len(inspect.signature(find_callers).parameters) >= 3:
        return find_callers(read, tag, config)
    return find_callers(read, tag)


def hand_callers(
    tag: str,
    config: ModelConfig,
    version: tuple[int, ...] | None = None,
    constants: Mapping[str, int] | None = None,
) -> Mapping[str, object]:
    """scenarios.py's hand-written flags: the tag's own at the four corpus tags; elsewhere, per
    scenario kind, those of the nearest corpus tag by release (``version``, from the Makefile or
    the tag name; unknown: the newest) whose flags the tag's rmap.h defines (``constants``),
    nearest older first. Each is marked as an assumption: the tag's callers are not read."""
    from .encoding import MODEL_TAGS
    from .interp.facts import CallerSpec, _corpus_callers

    if tag in MODEL_TAGS:
        return _corpus_callers(tag, config)
    specs = {t: _corpus_callers(t, config) for t in MODEL_TAGS}
    order = _nearest(version)
    out = {}
    for kind in specs[order[0]]:
        base = next(
            (t for k, t in enumerate(order)
             if (k == 0 or specs[t][kind].applicable)
             and all(f in (constants or {}) for f in specs[t][kind].flags)),
            order[0],
        )  # fmt: skip
        spec = specs[base][kind]
        note = (
            f"assumed: the caller flags kvdiff wrote by hand for {base} (model/scenarios.py); "
            f"the callers at {tag} are not read (model/callers.py is not installed)"
        )
        source = f"{spec.source}; {note}" if spec.source else note
        reason = f"{spec.reason} ({note})" if spec.reason else ""
        out[kind] = CallerSpec(spec.function, spec.flags, source, spec.applicable, reason)
    return out


def _nearest(version: tuple[int, ...] | None) -> list[str]:
    """The corpus tags by closeness to ``version``: the nearest older, the nearest newer, then
    the other older ones (newest first) and the other newer ones (oldest first)."""
    from .encoding import MODEL_TAGS

    releases = {t: parse_version(t)[0] for t in MODEL_TAGS}  # type: ignore[index]
    older = [t for t in MODEL_TAGS if version is None or releases[t] <= version][::-1]
    newer = [t for t in MODEL_TAGS if t not in older]
    head = older[:1] + newer[:1] if older else newer[:1]
    return head + [t for t in older + newer if t not in head]
