"""Run a scenario on the model DERIVED from the parsed source at any tag.

The function the caller uses (``try_to_unmap_one``, or what the tag's callers say) is parsed at
the tag and executed by :class:`~.executor.Executor` over the scenario's page, VMA, mm and PTE,
with the caller's flags and the tag's header facts. The result is the same :class:`Outcome` the
hand models give, plus ``undetermined`` when the run met something the helper table does not
know (the reason names it and its line).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from functools import lru_cache

from kvdiff.analyzers.analyze.analysis import analyze_parsed
from kvdiff.analyzers.analyze.ruleset import rules_for
from kvdiff.analyzers.parse.cparse import ParsedFile, parse_c
from kvdiff.analyzers.parse.extract import FunctionDef, find_functions
from kvdiff.analyzers.source.repo import SourceFile

from ..encoding import MODEL_TAGS, ModelConfig
from ..fault import next_fault
from ..outcome import Outcome, TraceStep
from ..scenarios import PFN, Setup, get_scenario
from ..state import Mm, Page, UnmapInput, Vma
from .executor import Executor
from .facts import tag_facts
from .machine import Machine, text_of
from .table import HelperTable, load_table
from .values import Bug, EntryVal, NamedInt, Obj, ReturnSignal, Undetermined, Unknown

Reader = Callable[[str], bytes]
ADDRESS = 0x7F0000001000  # where the scenario's page is mapped (any user address will do)
DEFAULT_PATH = "mm/rmap.c"


def _objects(
    page: Page, vma: Vma, mm: Mm, m_constant: Callable[[str], int | None]
) -> dict[str, Obj]:
    """The abstract page, VMA and mm (fields named as in state.py, read by the helper table)."""
    pf = asdict(page)
    pf["private"] = EntryVal(page.swap_type, page.swap_offset)  # page_private(): the swap entry
    pf.update(huge=0, trans_compound=0)  # the model covers one small page
    mm_obj = Obj("mm", asdict(mm))
    vm_flags = 0
    for name in sorted(vma.flags):
        value = m_constant(name)
        if value is None:
            raise Undetermined(f"the VMA flag {name} has no value in helpers.toml", 0)
        vm_flags |= value
    vma_obj = Obj("vma", {"vm_flags": vm_flags, "vm_mm": mm_obj, "uffd_armed": vma.uffd_armed})
    return {"page": Obj("page", pf), "vma": vma_obj, "mm": mm_obj}


def _flags_value(names: tuple[str, ...], constant: Callable[[str], int | None]) -> int:
    value = 0
    for name in names:
        # A literal from the caller's source (2.6.18's try_to_unmap(page, 1)) is its own value.
        v = int(name) if name.isdigit() else constant(name)
        if v is None:
            raise Undetermined(f"the caller's flag {name} is not defined at this tag", 0)
        value |= v
    return value


def present_pte(constant: Callable[[str], int | None], setup: Setup) -> int:
    """mk_pte() of the scenario's page: present, user, NX, and the setup's RW/dirty/young."""
    bits = ["_PAGE_PRESENT", "_PAGE_USER", "_PAGE_NX"]
    bits += [n for n, on in (("_PAGE_RW", setup.write), ("_PAGE_DIRTY", setup.dirty),
                             ("_PAGE_ACCESSED", setup.young)) if on]  # fmt: skip
    pte = setup.page.pfn << (constant("PAGE_SHIFT") or 12)
    for name in bits:
        v = constant(name)
        if v is None:
            raise Undetermined(f"{name} is not defined at this tag", 0)
        pte |= v
    return pte


def _bind(fn: FunctionDef, objects: dict[str, Obj], flags: int, table: HelperTable) -> dict:
    decl = fn.node.child_by_field_name("declarator")
    while decl is not None and decl.type != "function_declarator":
        decl = decl.child_by_field_name("declarator")
    params = decl.child_by_field_name("parameters") if decl is not None else None
    env: dict[str, object] = {}
    roles = {"page": objects["page"], "vma": objects["vma"], "address": ADDRESS, "flags": flags}
    for p in params.named_children if params is not None else ():
        if p.type != "parameter_declaration":
            continue
        d = p.child_by_field_name("declarator")
        stars = ""
        while d is not None and d.type == "pointer_declarator":
            stars += "*"
            d = d.child_by_field_name("declarator")
        type_text = f"{text_of(p.child_by_field_name('type'))} {stars}".strip()
        role = table.parameters.get(type_text)
        if d is None or role is None:
            raise Undetermined(f"the parameter '{text_of(p)}' has no role in helpers.toml", 0)
        env[text_of(d)] = roles[role]
    return env


def _ret_text(fn: FunctionDef, value: object) -> str:
    if isinstance(value, Unknown):
        raise Undetermined(
            f"the return value depends on {value.cause} (line {value.line})", value.line
        )
    rtype = text_of(fn.node.child_by_field_name("type"))
    if value is None:
        return ""
    if rtype == "bool":
        return "true" if value else "false"
    if isinstance(value, NamedInt):
        return value.name
    return str(value)


@lru_cache(maxsize=32)
def _parse(data: bytes) -> ParsedFile:
    return parse_c(data)


@lru_cache(maxsize=32)
def _labels(parsed: ParsedFile, tag: str, path: str, function: str) -> dict:
    """(line, condition) -> the concept the rule set gives that branch at this tag."""
    rules = rules_for(function, path)
    if rules is None:
        return {}
    source = SourceFile(tag, path, "", "", parsed.data)
    analysis = analyze_parsed(source, parsed, rules, function)
    return {(start, cond): ids for (start, _e, cond), ids in analysis.branch_concepts().items()}


def derived_outcome(
    read: Reader,
    tag: str,
    scenario: str,
    config: ModelConfig | None = None,
    *,
    table: HelperTable | None = None,
    facts: object | None = None,
) -> Outcome:
    """Run ``scenario`` on the model derived from the source at ``tag`` (``read(path)``)."""
    config = config or ModelConfig()
    table = table or load_table()
    facts = facts if facts is not None else tag_facts(read, tag, config)
    setup = get_scenario(scenario).setup()
    kind = "compaction" if setup.compaction else "migration" if setup.migration else "reclaim"
    caller = getattr(facts, "callers", {}).get(kind)
    base = _Base(tag, scenario, config, facts, table, setup)
    if caller is None:
        return base.undetermined(f"no caller facts for {kind} at {tag}", (), "")
    if not getattr(caller, "applicable", True):
        return base.not_applicable(str(getattr(caller, "reason", "")))
    kconfig = config.kconfig()
    for option, reason in getattr(caller, "requires", ()):
        if not kconfig.get(option, True):
            return base.not_applicable(reason)
    if getattr(caller, "undetermined", ""):
        flags = tuple(getattr(caller, "flags", ()))
        return base.undetermined(str(caller.undetermined), flags, str(caller.source))
    return base.run(read, caller)


class _Base:
    """One derived run's inputs, and the three ways it ends (see :func:`derived_outcome`)."""

    def __init__(self, tag, scenario, config, facts, table, setup) -> None:
        self.tag, self.scenario, self.config = tag, scenario, config
        self.facts, self.table, self.setup = facts, table, setup
        consts = getattr(facts, "constants", {})
        self.constant = lambda n: int(consts[n]) if n in consts else (
            table.constants[n].value if n in table.constants else None
        )  # fmt: skip
        self.layout = facts.layout
        try:
            self.pte = present_pte(self.constant, setup)
        except Undetermined:
            self.pte = 0

    def _outcome(self, **kw) -> Outcome:
        before = self.layout.decode(self.pte)
        fields = dict(
            tag=self.tag, scenario=self.scenario, applicable=True, reason="",
            pte_before=self.pte, pte_after=self.pte, decoded_before=before,
            decoded_after=before, ret="", side_effects=(), trace=(), next_fault="",
            config=self.config,
        )  # fmt: skip
        fields.update(kw)
        return Outcome(**fields)

    def not_applicable(self, reason: str) -> Outcome:
        return self._outcome(applicable=False, reason=reason)

    def undetermined(self, reason: str, flags: tuple, source: str, **kw) -> Outcome:
        return self._outcome(
            undetermined=reason, flags=tuple(sorted(flags)), flags_source=source, **kw
        )

    def run(self, read: Reader, caller: object) -> Outcome:
        fn_name = str(getattr(caller, "function", "try_to_unmap_one"))
        path = str(getattr(caller, "path", DEFAULT_PATH))
        flags = tuple(getattr(caller, "flags", ()))
        source = str(getattr(caller, "source", getattr(caller, "cite", "")))
        parsed = _parse(read(path))
        defs = find_functions(parsed, fn_name)
        if not defs:
            return self.undetermined(
                f"{fn_name} is not defined in {path} at {self.tag}", flags, source
            )
        fn = defs[0]
        inp = UnmapInput(self.setup.page, self.setup.vma, Mm(), self.pte, frozenset(flags))
        try:
            m, ret, why = run_function(fn, inp, self.facts, self.config, self.table, path)
        except Undetermined as exc:
            return self.undetermined(exc.reason, flags, source)
        labels = _labels(parsed, self.tag, path, fn_name)
        # A branch that is several concepts (5.x's PageAnon arm is anon and swapcache) is one
        # trace step per concept, as in the hand models.
        trace = tuple(
            TraceStep(concept, s.condition, path, s.line, s.taken)
            for s in m.steps
            for concept in labels.get((s.line, s.condition), ("",))
        )
        after = self.layout.decode(m.pte)
        effects = tuple(m.effects + m.unmodelled + m.assumptions)
        common = dict(pte_after=m.pte, decoded_after=after, side_effects=effects, trace=trace)
        if why:
            return self.undetermined(why, flags, source, **common)
        return self._outcome(
            ret=ret, flags=tuple(sorted(flags)), flags_source=source, **common,
            next_fault=_next_fault(self.tag, after, bool(self.setup.page.anon)),
            function=fn_name,
        )  # fmt: skip


def run_function(
    fn: FunctionDef,
    inp: UnmapInput,
    facts: object,
    config: ModelConfig,
    table: HelperTable,
    path: str = DEFAULT_PATH,
) -> tuple[Machine, str, str]:
    """Execute ``fn`` on one call; returns the machine, the return text and why undetermined.

    Raises Undetermined when the inputs cannot even be bound (a parameter or flag unknown).
    """
    consts = getattr(facts, "constants", {})

    def constant(name: str) -> int | None:
        if name in consts:
            return int(consts[name])
        return table.constants[name].value if name in table.constants else None

    objects = _objects(inp.page, inp.vma, inp.mm, constant)
    env = _bind(fn, objects, _flags_value(tuple(sorted(inp.flags)), constant), table)
    m = Machine(table=table, facts=facts, config=config.kconfig(), path=path,
                objects=objects, address=ADDRESS, pte=inp.pte)  # fmt: skip
    ret, why = _execute(m, fn, env)
    return m, ret, why


def _execute(m: Machine, fn: FunctionDef, env: dict) -> tuple[str, str]:
    """(return text, "") or ("", the reason the outcome is undetermined)."""
    try:
        try:
            Executor(m).exec(fn.body, env)
            value = None
        except ReturnSignal as r:
            value = r.value
        return _ret_text(fn, value), ""
    except Bug as b:
        m.effect(b.text, b.line)
        return "BUG", ""
    except Undetermined as u:
        return "", u.reason


def _next_fault(tag: str, decoded, anon: bool) -> str:
    if tag in MODEL_TAGS:
        return next_fault(tag, decoded, anon)
    generic = {
        "present": "No fault: the page is still mapped.",
        "none": "The PTE is empty: the next touch faults the page in afresh.",
        "swap": "do_swap_page(): a real swap entry: the page is looked up in the swap cache or "
        "read back from swap.",
        "migration": "do_swap_page(): a migration entry: migration_entry_wait(), then the fault "
        "is retried.",
        "hwpoison": "do_swap_page(): a hwpoison entry: SIGBUS.",
        "device": "do_swap_page(): a device-private entry: the page migrates back to RAM.",
    }
    return generic.get(decoded.kind, f"do_swap_page(): a {decoded.kind} entry.")


__all__ = ["ADDRESS", "PFN", "derived_matrix", "derived_outcome", "present_pte", "run_function"]


def derived_matrix(
    reader_for: Callable[[str], Reader], tags: tuple[str, ...], config: ModelConfig | None = None
) -> tuple[Outcome, ...]:
    """Every scenario at every tag (scenarios in SCENARIOS order, tags as given), derived."""
    from ..scenarios import SCENARIO_NAMES

    out = []
    for tag in tags:
        read = reader_for(tag)
        facts = tag_facts(read, tag, config or ModelConfig())
        out += [
            (s, tag, derived_outcome(read, tag, s, config, facts=facts)) for s in SCENARIO_NAMES
        ]
    order = {s: i for i, s in enumerate(SCENARIO_NAMES)}
    out.sort(key=lambda t: (order[t[0]], tags.index(t[1])))
    return tuple(o for _s, _t, o in out)
