"""Parse rules as data: which branch of a function is which concept, recognised structurally.

A rule file (``analyzers/analyze/rules/<target>.toml``) names the target function and its
file, and for each concept one or more ``[[concept.<id>.match]]`` tables. A branch is a hit
when it satisfies every predicate of at least one match table. Predicates look at the
branch's condition and body through tree-sitter queries and at its place in the branch tree;
no line numbers anywhere, so one rule set serves every version. Version-dependent facts are
declared, not copied: ``expected_absent`` (tags or ranges where the concept is known not to exist)
and ``[[concept.<id>.moved]]`` (a sibling function that holds the concept since some tag).

See the README section "Writing a rule set" for the format.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kvdiff.analyzers.analyze.expectations import Epoch, epoch_at, parse_history
from kvdiff.analyzers.concepts import BY_ID, CONCEPT_IDS, Concept
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.parse.cparse import compile_query
from kvdiff.analyzers.versions import TagRange, parse_tag_range, parse_version, version_key

# Arms a concept can be; loops, switches and preprocessor arms only when a rule asks for them.
DEFAULT_KINDS: tuple[str, ...] = ("if", "else if", "else", "case", "default")
EXIT_KINDS = frozenset({"goto", "return", "break", "continue"})

_LIST_KEYS = (
    "condition_calls",
    "condition_calls_all",
    "not_condition_calls",
    "condition_mentions",
    "not_condition_mentions",
    "not_inside",
    "body_calls_any",
    "not_body_calls",
    "exits_with",
    "kinds",
)
_STR_KEYS = ("condition_query", "body_query", "inside", "else_of")
_BOOL_KEYS = ("innermost", "owner_arm", "body_writes_pte", "body_makes_entry")
_MATCH_KEYS = frozenset(_LIST_KEYS + _STR_KEYS + _BOOL_KEYS)
_CONCEPT_KEYS = frozenset({"match", "moved", "expected_absent", "absent_note", "note", "history"})


@dataclass(frozen=True)
class Match:
    """One way to recognise a concept: every predicate that is set must hold."""

    condition_calls: tuple[str, ...] = ()  # the condition calls any of these
    condition_calls_all: tuple[str, ...] = ()  # ... calls all of these
    not_condition_calls: tuple[str, ...] = ()
    condition_mentions: tuple[str, ...] = ()  # an identifier in the condition is any of these
    not_condition_mentions: tuple[str, ...] = ()
    condition_query: str = ""  # tree-sitter query over the condition: must capture something
    body_calls_any: tuple[str, ...] = ()  # the body (nested statements included) calls any
    not_body_calls: tuple[str, ...] = ()
    body_query: str = ""
    body_writes_pte: bool = False  # some statement of the body writes a PTE
    body_makes_entry: bool = False  # ... builds a swap/migration/hwpoison entry
    exits_with: tuple[str, ...] = ()  # the branch's own statements exit with one of these
    inside: str = ""  # nested (at any depth) in a hit of this concept
    not_inside: tuple[str, ...] = ()  # ... and in no hit of these (another concept's arm)
    else_of: str = ""  # the plain else arm of a chain one of whose arms is a hit of this concept
    innermost: bool = False  # drop a hit when one of its descendants is also a hit
    # With innermost: a complete if/else chain all of whose arms are hits only chooses how (which
    # entry to make); the arm that holds the chain owns the hit, not the chain's arms.
    owner_arm: bool = False
    kinds: tuple[str, ...] = DEFAULT_KINDS

    def dependencies(self) -> tuple[str, ...]:
        return tuple(d for d in (self.inside, self.else_of, *self.not_inside) if d)


@dataclass(frozen=True)
class Moved:
    function: str  # sibling function in the same file
    since: str  # first tag where the concept lives there
    note: str = ""


@dataclass(frozen=True)
class ConceptRule:
    concept: str
    title: str
    matches: tuple[Match, ...]
    expected_absent: tuple[TagRange, ...] = ()
    absent_note: str = ""
    moved: tuple[Moved, ...] = ()
    note: str = ""
    history: tuple[Epoch, ...] = ()  # see :mod:`.expectations`; wins over the two above

    def expected_at(self, version: str) -> Epoch | None:
        """What the rules expect at ``version`` (a version tag); None for a tag that is no
        version (a range says nothing about it) when the rules rely on ranges."""
        if self.history:
            return epoch_at(self.history, version) if parse_version(version) else None
        moved = self._legacy_moved(version)
        if moved is not None:
            return Epoch("moved", since=moved.since, function=moved.function, note=moved.note)
        if any(r.matches(version) for r in self.expected_absent):
            return Epoch("absent", note=self.absent_note)
        return Epoch("present", note=self.note) if parse_version(version) else None

    def is_expected_absent(self, version: str) -> bool:
        epoch = self.expected_at(version)
        return epoch is not None and epoch.state == "absent"

    def moved_at(self, version: str) -> Moved | None:
        """Where the concept lives instead of the target at ``version``, if it moved."""
        epoch = self.expected_at(version)
        if epoch is None or epoch.state != "moved":
            return None
        return Moved(epoch.function, epoch.since, epoch.note or epoch.cite(version))

    def _legacy_moved(self, tag: str) -> Moved | None:
        """The latest ``moved`` entry whose ``since`` is at or before ``tag``."""
        live = [m for m in self.moved if version_key(m.since) <= version_key(tag)]
        return max(live, key=lambda m: version_key(m.since)) if live else None


@dataclass(frozen=True)
class RuleSet:
    target: str  # the rule set's name (file stem)
    function: str  # the function it describes
    path: str  # the file that defines it, e.g. mm/rmap.c
    return_var: str
    concepts: tuple[ConceptRule, ...]  # registry order, then the file's own extra concepts
    source: str  # where the rules were loaded from (for messages)

    def concept(self, concept_id: str) -> ConceptRule:
        for c in self.concepts:
            if c.concept == concept_id:
                return c
        raise KeyError(concept_id)

    @property
    def concept_ids(self) -> tuple[str, ...]:
        return tuple(c.concept for c in self.concepts)


# -- version ranges ----------------------------------------------------------------------------

_RANGE_HINT = 'use e.g. "v5.1", ">=v5.1", "<v2.6.16", "v2.6.35..v5.10.37" or "*"'


def _tag_range(spec: object, where: str) -> TagRange:
    """A rule file's tag or range (:func:`~analyzers.versions.parse_tag_range`); unlike an
    annotation's, an exact tag must be a version too, so a typo cannot silently match nothing."""
    if not isinstance(spec, str):
        raise KvdiffError(f"{where}: {spec!r} is not a tag or range; {_RANGE_HINT}")
    try:
        parsed = parse_tag_range(spec)
    except ValueError as exc:
        raise KvdiffError(f"{where}: {exc}; {_RANGE_HINT}") from None
    if parsed.op == "=" and parse_version(parsed.spec) is None:
        raise KvdiffError(f"{where}: {spec!r} is not a tag or range; {_RANGE_HINT}")
    return parsed


# -- loading -------------------------------------------------------------------------------------


def rules_dir() -> Path:
    return Path(str(resources.files("kvdiff.analyzers.analyze.rules")))


def available_rule_sets() -> list[str]:
    return sorted(p.stem for p in rules_dir().glob("*.toml"))


def load_rule_set(target: str = "try_to_unmap_one", path: Path | None = None) -> RuleSet:
    """The rule set for ``target`` (``analyzers/analyze/rules/<target>.toml``), or the file at
    ``path``."""
    if path is None:
        path = rules_dir() / f"{target}.toml"
        if not path.is_file():
            known = ", ".join(available_rule_sets()) or "none"
            raise KvdiffError(
                f"no rule set for {target} (known: {known}); pass --rules FILE or write "
                f"analyzers/analyze/rules/{target}.toml (see the README, 'Writing a rule set')"
            )
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise KvdiffError(f"cannot read rule file {path}: {exc.strerror}; check the path") from None
    except tomllib.TOMLDecodeError as exc:
        raise KvdiffError(f"rule file {path} is not valid TOML ({exc}); fix the syntax") from None
    return parse_rule_set(raw, source=str(path), default_target=Path(path).stem)


def parse_rule_set(raw: dict, source: str, default_target: str) -> RuleSet:
    """Validate and convert a decoded TOML rule file; every mistake is a one-line KvdiffError."""
    meta = raw.get("meta", {})
    unknown_top = set(raw) - {"meta", "concept", "extra"}
    if unknown_top:
        raise KvdiffError(
            f"{source}: unknown table(s) {', '.join(sorted(unknown_top))}; "
            "a rule file has [meta], [extra.<id>] and [concept.<id>] tables"
        )
    function = meta.get("function") or meta.get("target") or default_target
    target = meta.get("target", default_target)
    file_path = meta.get("path", "")
    if not file_path:
        raise KvdiffError(f'{source}: [meta] needs path = "<file that defines {function}>"')

    extras: dict[str, Concept] = {}
    for cid, table in raw.get("extra", {}).items():
        if cid in BY_ID:
            raise KvdiffError(
                f"{source}: [extra.{cid}] redefines a registry concept; use [concept.{cid}]"
            )
        extras[cid] = Concept(cid, table.get("title", cid), table.get("summary", ""))

    concepts_raw: dict = raw.get("concept", {})
    for cid in concepts_raw:
        if cid not in BY_ID and cid not in extras:
            raise KvdiffError(
                f"{source}: unknown concept {cid!r}; use one of {', '.join(CONCEPT_IDS)} "
                f"or declare it first in an [extra.{cid}] table"
            )
    order = [c for c in CONCEPT_IDS if c in concepts_raw] + [c for c in extras if c in concepts_raw]
    rules = []
    for cid in order:
        title = BY_ID[cid].title if cid in BY_ID else extras[cid].title
        rules.append(_concept_rule(cid, title, concepts_raw[cid], f"{source}: concept.{cid}"))
    ids = {r.concept for r in rules}
    for rule in rules:
        for m in rule.matches:
            for dep in m.dependencies():
                if dep not in ids:
                    raise KvdiffError(
                        f"{source}: concept.{rule.concept} refers to concept {dep!r}, which this "
                        "rule file does not define; define it or drop the reference"
                    )
    ruleset = RuleSet(
        target=target,
        function=function,
        path=file_path,
        return_var=meta.get("return_var", "ret"),
        concepts=tuple(rules),
        source=source,
    )
    dependency_order(ruleset)  # rejects cycles early
    return ruleset


def _concept_rule(cid: str, title: str, table: dict, where: str) -> ConceptRule:
    unknown = set(table) - _CONCEPT_KEYS
    if unknown:
        raise KvdiffError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(_CONCEPT_KEYS))}"
        )
    matches = tuple(_match(m, f"{where}.match") for m in table.get("match", []))
    if not matches:
        raise KvdiffError(f"{where}: needs at least one [[concept.{cid}.match]] table")
    absent = tuple(
        _tag_range(spec, f"{where}.expected_absent") for spec in table.get("expected_absent", [])
    )
    moved = []
    for entry in table.get("moved", []):
        if not entry.get("function") or not entry.get("since"):
            raise KvdiffError(f'{where}.moved: needs function = "…" and since = "<tag>"')
        if not isinstance(entry["since"], str) or parse_version(entry["since"]) is None:
            raise KvdiffError(
                f'{where}.moved.since: {entry["since"]!r} is not a version tag; write e.g. "v5.14"'
            )
        moved.append(Moved(entry["function"], entry["since"], entry.get("note", "")))
    history = parse_history(table["history"], f"{where}.history") if "history" in table else ()
    if history and (absent or moved):
        raise KvdiffError(
            f"{where}: history replaces expected_absent and moved; keep one of the two forms"
        )
    return ConceptRule(
        concept=cid,
        title=title,
        matches=matches,
        expected_absent=absent,
        absent_note=table.get("absent_note", ""),
        moved=tuple(moved),
        note=table.get("note", ""),
        history=history,
    )


def _match(table: dict, where: str) -> Match:
    unknown = set(table) - _MATCH_KEYS
    if unknown:
        raise KvdiffError(
            f"{where}: unknown predicate(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(_MATCH_KEYS))}"
        )
    kwargs: dict = {}
    for key in _LIST_KEYS:
        if key in table:
            value = table[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise KvdiffError(f"{where}: {key} must be a list of strings")
            kwargs[key] = tuple(value)
    for key in _STR_KEYS:
        if key in table:
            if not isinstance(table[key], str):
                raise KvdiffError(f"{where}: {key} must be a string")
            kwargs[key] = table[key]
    for key in _BOOL_KEYS:
        if key in table:
            if not isinstance(table[key], bool):
                raise KvdiffError(f"{where}: {key} must be true or false")
            kwargs[key] = table[key]
    for key in ("condition_query", "body_query"):
        if kwargs.get(key):
            try:
                compile_query(kwargs[key])
            except Exception as exc:  # tree-sitter raises QueryError / NameError variants
                raise KvdiffError(
                    f"{where}: {key} is not a valid tree-sitter query ({exc}); fix the query"
                ) from None
    bad_exits = set(kwargs.get("exits_with", ())) - EXIT_KINDS
    if bad_exits:
        raise KvdiffError(
            f"{where}: exits_with has {', '.join(sorted(bad_exits))}; "
            f"use {', '.join(sorted(EXIT_KINDS))}"
        )
    return Match(**kwargs)


def dependency_order(rules: RuleSet) -> list[ConceptRule]:
    """Concept rules ordered so that every ``inside``/``else_of`` target comes first."""
    by_id = {r.concept: r for r in rules.concepts}
    done: list[ConceptRule] = []
    state: dict[str, int] = {}

    def visit(cid: str, chain: tuple[str, ...]) -> None:
        if state.get(cid) == 2:
            return
        if state.get(cid) == 1:
            cycle = " -> ".join(chain + (cid,))
            raise KvdiffError(f"{rules.source}: concepts refer to each other in a cycle ({cycle})")
        state[cid] = 1
        for m in by_id[cid].matches:
            for dep in m.dependencies():
                visit(dep, chain + (cid,))
        state[cid] = 2
        done.append(by_id[cid])

    for r in rules.concepts:
        visit(r.concept, ())
    return done


def empty_rule_set(function: str, path: str) -> RuleSet:
    """No concepts: a branch tree without labels, for functions nobody wrote rules for."""
    return RuleSet(
        target=function,
        function=function,
        path=path,
        return_var="ret",
        concepts=(),
        source="(no rule set)",
    )


def rules_for(function: str, path: str | None, rules_file: Path | None = None) -> RuleSet | None:
    """The rule set that describes ``function`` in ``path`` (any file when ``path`` is None).

    ``--rules FILE`` is used as given. Otherwise the packaged rule set named after the function,
    but only when it describes that function in that file: try_to_unmap_one's rules say nothing
    about a try_to_unmap_one in another file. None when no rule set applies.
    """
    if rules_file is not None:
        return load_rule_set(path=rules_file)
    if not (rules_dir() / f"{function}.toml").is_file():
        return None
    rules = load_rule_set(function)
    if rules.function != function or (path is not None and rules.path != path):
        return None
    return rules


def resolve_rule_set(
    function: str | None, path: str | None, rules_file: Path | None
) -> tuple[RuleSet, str, str]:
    """The rules, function and file a command should use.

    ``--rules FILE`` wins; otherwise the packaged rule set for the function (default
    try_to_unmap_one) when it describes that file; else an empty rule set, which needs ``--file``.
    """
    name = function or "try_to_unmap_one"
    rules = rules_for(name, path, rules_file)
    if rules is None:
        if not path:
            raise KvdiffError(
                f"no rule set for {name}, so kvdiff does not know its file; "
                "pass --file PATH (e.g. --file mm/memory.c) or --rules FILE"
            )
        rules = empty_rule_set(name, path)
    return rules, function or rules.function, path or rules.path
