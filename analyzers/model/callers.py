"""Who unmaps the page at a tag, and with which flags: read from the tag's own callers.

``find_callers(read, tag)`` parses the caller files at the tag (mm/vmscan.c for reclaim,
mm/migrate.c for migration, mm/compaction.c for compaction; model/callers.toml says which),
finds the call of the entry function (``try_to_unmap(page, flags)``, ``try_to_migrate(folio,
flags)``), follows its flag argument back through local variables, ``|=`` under an ``if``, the
caller's own parameters and the ternary operator, then follows the entry function in mm/rmap.c
to the per-VMA function it runs: the ``.rmap_one`` of its ``rmap_walk_control``, or, on older
trees, the direct call through try_to_unmap_anon()/try_to_unmap_file(). Every step is cited
file:line in :attr:`CallerSpec.source`.

A scenario that cannot happen at the tag is not applicable, with the evidence (mm/Makefile
builds no migrate.o; no mm/migrate.c and try_to_unmap() takes no flags; no mm/compaction.c and
no caller mentions compaction). A caller file that cannot be read gives an explicit assumption
in the source text, never a silent default; a flag the source cannot decide makes the spec
undetermined (:attr:`CallerSpec.undetermined`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kvdiff.analyzers.errors import MissingFile
from kvdiff.analyzers.parse.cparse import ParsedFile, node_text
from kvdiff.analyzers.parse.extract import FunctionDef
from tree_sitter import Node

from .callflags import FlagTracer, Indexed, Undecided, indexed, param_names, strip
from .interp.facts import CallerSpec, header_constants
from .tables import RMAP, RMAP_H, caller_paths, callers_table

Reader = Callable[[str], bytes]


@dataclass
class _Files:
    """The tag's files, each read and indexed at most once; a file the tag lacks is None.

    Only a missing file is None: any other failure to read (a damaged cache, offline) is the
    reader's error and propagates.
    """

    read: Reader
    data: dict[str, bytes | None] = field(default_factory=dict)

    def raw(self, path: str) -> bytes | None:
        if path not in self.data:
            try:
                self.data[path] = self.read(path)
            except (MissingFile, FileNotFoundError, NotADirectoryError):
                self.data[path] = None
        return self.data[path]

    def get(self, path: str) -> Indexed | None:
        data = self.raw(path)
        return None if data is None else indexed(data)


@dataclass(frozen=True)
class Walk:
    """What an entry function in mm/rmap.c runs per VMA, and whether it takes flags."""

    entry: str
    one: str  # the per-VMA function (try_to_unmap_one, try_to_migrate_one)
    cite: str  # mm/rmap.c:line of the .rmap_one initializer or the direct call
    takes_flags: bool
    defined_at: str  # mm/rmap.c:line of the entry's definition


def _rmap_one(parsed: ParsedFile, fn: FunctionDef) -> tuple[str, int] | None:
    """The ``.rmap_one = X`` initializer in ``fn``'s body: (X, line)."""
    stack = [fn.body] if fn.body is not None else []
    while stack:
        node = stack.pop()
        if node.type == "initializer_pair":
            designator = node.child_by_field_name("designator")
            value = node.child_by_field_name("value")
            if designator is not None and node_text(parsed.data, designator) == ".rmap_one":
                return node_text(parsed.data, strip(value)), value.start_point.row + 1
        stack.extend(reversed(node.children))
    return None


def walk_of(index: Indexed, entry: str) -> Walk | None:
    """Follow ``entry`` in mm/rmap.c to its per-VMA function (see the module docstring)."""
    fn = index.functions.get(entry)
    if fn is None:
        return None
    takes_flags = len(param_names(fn)) >= 2
    where = f"{RMAP}:{fn.start_line}"
    found = _rmap_one(index.parsed, fn)
    if found is not None:
        return Walk(entry, found[0], f"{RMAP}:{found[1]}", takes_flags, where)
    # Older trees: try_to_unmap() -> try_to_unmap_anon()/_file() -> try_to_unmap_one().
    target, seen, todo = f"{entry}_one", {entry}, [entry]
    for _depth in range(3):
        nxt = []
        for name in todo:
            for called, node in index.calls.get(name, []):
                if called == target:
                    return Walk(entry, target, f"{RMAP}:{node.start_point.row + 1}",
                                takes_flags, where)  # fmt: skip
                if called in index.functions and called not in seen:
                    seen.add(called)
                    nxt.append(called)
        todo = nxt
    return None


def _excluded(name: str) -> bool:
    return any(s in name for s in callers_table()["exclude"]["substrings"])


def _first_call(index: Indexed, callees: list[str]) -> tuple[FunctionDef, str, Node] | None:
    """The first function in file order that calls one of ``callees`` (hugetlb and device
    paths excluded), the callee and the call."""
    for name, calls in index.calls.items():
        if _excluded(name):
            continue
        for called, node in calls:
            if called in callees:
                return index.functions[name], called, node
    return None


def _defined_flags(files: _Files, names: list[str]) -> tuple[str, ...]:
    data = files.raw(RMAP_H)
    if data is None:
        return ()
    consts, _ = header_constants(data, RMAP_H)
    return tuple(n for n in names if n in consts)


class _Finder:
    """One tag's caller facts (see :func:`find_callers`)."""

    def __init__(self, read: Reader, tag: str) -> None:
        self.tag = tag
        self.files = _Files(read)
        self.table = callers_table()
        self._walks: dict[str, Walk | None] = {}

    def walk(self, entry: str) -> Walk | None:
        if entry not in self._walks:
            rmap = self.files.get(RMAP)
            self._walks[entry] = walk_of(rmap, entry) if rmap is not None else None
        return self._walks[entry]

    def makefile(self, obj: str) -> tuple[bool, str] | None:
        """Whether mm/Makefile builds ``obj`` (and the cite); None without mm/Makefile."""
        data = self.files.raw("mm/Makefile")
        if data is None:
            return None
        for i, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if line.lstrip().startswith("obj") and obj in line.split():
                return True, f"mm/Makefile:{i}"
        return False, "mm/Makefile"

    def requires(self, kind: Mapping) -> tuple[tuple[str, str], ...]:
        option = kind.get("option")
        return ((option, self.table["off"][option]),) if option else ()

    def spec_from_call(self, kind_name: str, kind: Mapping, path: str) -> CallerSpec:
        """The spec from the caller file ``path`` (parsed) at the tag."""
        index = self.files.get(path)
        site = _first_call(index, list(kind["entries"]))
        if site is None:
            return CallerSpec("", (), "", False, f"{path} at {self.tag} calls none of "
                              f"{', '.join(kind['entries'])}() for a small page")  # fmt: skip
        fn, entry, call = site
        walk = self.walk(entry)
        if walk is None:
            return CallerSpec("", (), "", True, "", undetermined=(
                f"{entry}() (called at {path}:{call.start_point.row + 1}) is not followed to a "
                f"per-VMA function in {RMAP} at {self.tag}"))  # fmt: skip
        tracer = FlagTracer(index, path, self.table, kind.get("param_callers", []))
        args = [a for a in call.child_by_field_name("arguments").named_children
                if a.type != "comment"]  # fmt: skip
        head = f"{kind_name}: {fn.name}() calls {entry}() at {path}:{call.start_point.row + 1}"
        try:
            flags = tracer.flags(args[1], fn) if len(args) > 1 and walk.takes_flags else ()
        except Undecided as u:
            return CallerSpec(walk.one, (), head, True, "", self.requires(kind),
                              undetermined=f"the caller's flags: {u}")  # fmt: skip
        notes = [*tracer.notes, f"{entry}() runs {walk.one}() ({walk.cite})"]
        return CallerSpec(walk.one, tuple(sorted(flags)), "; ".join([head, *notes]), True, "",
                          self.requires(kind))  # fmt: skip

    def assumed(self, kind_name: str, kind: Mapping, why: str) -> CallerSpec:
        """The spec when the caller file is unavailable: the stated assumption."""
        entries = [e for e in kind["entries"] if self.walk(e) is not None]
        if not entries:
            return CallerSpec("", (), "", True, "", undetermined=(
                f"{why}, and {RMAP} at {self.tag} defines none of "
                f"{', '.join(kind['entries'])}()"))  # fmt: skip
        walk = self.walk(entries[0])
        flags = () if walk.entry == "try_to_migrate" or not walk.takes_flags else \
            _defined_flags(self.files, list(kind.get("assumed_flags", [])))  # fmt: skip
        text = (
            f"{kind_name}: assumed: {why}, so {walk.entry}() is assumed called with "
            f"{' | '.join(flags) if flags else 'no flags'}; {walk.entry}() runs {walk.one}() "
            f"({walk.cite})"
        )
        return CallerSpec(walk.one, tuple(sorted(flags)), text, True, "", self.requires(kind))

    # -- the three kinds --------------------------------------------------------------------
    def reclaim(self) -> CallerSpec:
        kind = self.table["kinds"]["reclaim"]
        if self.files.get(kind["file"]) is None:
            return self.assumed("reclaim", kind, f"{kind['file']} is not available at {self.tag}")
        return self.spec_from_call("reclaim", kind, kind["file"])

    def migration(self) -> CallerSpec:
        kind = self.table["kinds"]["migration"]
        path = kind["file"]
        built = self.makefile(kind["object"])
        if built is not None and not built[0]:
            return CallerSpec("", (), "", False, f"{self.tag} has no page migration: "
                              f"{built[1]} builds no {kind['object']}")  # fmt: skip
        if self.files.get(path) is not None:
            return self.spec_from_call("migration", kind, path)
        walks = [w for w in (self.walk(e) for e in kind["entries"]) if w is not None]
        if walks and not any(w.takes_flags for w in walks):
            w = walks[0]
            return CallerSpec("", (), "", False, (
                f"{self.tag} has no page migration: {path} is not in the tree and "
                f"{w.entry}() takes no flags ({w.defined_at}): no caller can pass "
                "TTU_MIGRATION, so there is no migration entry"))  # fmt: skip
        return self.assumed("migration", kind, f"{path} is not available at {self.tag}")

    def compaction(self, migration: CallerSpec) -> CallerSpec:
        kind = self.table["kinds"]["compaction"]
        if not migration.applicable:
            return migration
        built = self.makefile(kind["object"])
        if built is not None and not built[0]:
            return CallerSpec("", (), "", False, f"{self.tag} has no memory compaction: "
                              f"{built[1]} builds no {kind['object']}")  # fmt: skip
        path = kind["file"]
        index = self.files.get(path)
        if index is None:
            return self._compaction_evidence(kind, migration)
        site = _first_call(index, list(kind["calls"]))
        if site is not None:
            fn, called, node = site
            head = f"compaction: {fn.name}() calls {called}() at {path}:{node.start_point.row + 1}"
            return _via(migration, head)
        return CallerSpec("", (), "", True, "", undetermined=(
            f"{path} at {self.tag} calls none of {', '.join(kind['calls'])}()"))  # fmt: skip

    def _compaction_evidence(self, kind: Mapping, migration: CallerSpec) -> CallerSpec:
        """Without mm/compaction.c: does another caller file refer to compaction?"""
        files = [k["file"] for k in self.table["kinds"].values() if k is not kind]
        for path in files:
            index = self.files.get(path)
            hit = _identifier_with(index.parsed, kind["evidence"]) if index is not None else None
            if hit is not None:
                head = (f"compaction: assumed: {kind['file']} is not available at {self.tag}; "
                        f"{path}:{hit[1]} refers to {hit[0]}, so compaction is assumed to move "
                        f"pages with {kind['calls'][0]}()")  # fmt: skip
                return _via(migration, head)
        return CallerSpec("", (), "", False, (
            f"{self.tag} has no memory compaction: {kind['file']} is not in the tree and "
            f"none of {', '.join(files)} refers to compaction"))  # fmt: skip


def _via(migration: CallerSpec, head: str) -> CallerSpec:
    """Compaction's spec: the migration spec, reached through ``head``."""
    return CallerSpec(migration.function, migration.flags, f"{head}, then {migration.source}",
                      True, "", migration.requires, migration.undetermined)  # fmt: skip


def _identifier_with(parsed: ParsedFile, parts: list[str]) -> tuple[str, int] | None:
    """The first identifier (not a comment) containing one of ``parts``: (name, line)."""
    stack = [parsed.tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "identifier":
            name = node_text(parsed.data, node)
            if any(p in name for p in parts):
                return name, node.start_point.row + 1
        stack.extend(reversed(node.children))
    return None


def find_callers(read: Reader, tag: str) -> dict[str, CallerSpec]:
    """Scenario kind ("reclaim", "migration", "compaction") -> its caller at ``tag``.

    ``read(path) -> bytes`` reads a file at the tag (it may raise for a missing file).
    """
    finder = _Finder(read, tag)
    migration = finder.migration()
    return {
        "reclaim": finder.reclaim(),
        "migration": migration,
        "compaction": finder.compaction(migration),
    }


# The files find_callers() may read, for batch prefetching with the function's file.
CALLER_PATHS: tuple[str, ...] = caller_paths()
