"""`kvdiff check`'s findings at a tag, kept in the result cache between runs.

The findings at a tag are a function of what the check reads there and of kvdiff's code: the
key holds the source file as read (tag, path, blob id, origin, and the version its Makefile
gave), the golden file as parsed (or its absence), the rule set as parsed and
:func:`.codedigest.code_digest`. A hit gives back the :class:`~.compare.check.TagCheck` and the
warning the analysis raised, without importing the parser; a miss analyses as
:func:`.compare.golden.run_check` does and stores both. An entry that does not decode to a
TagCheck is a miss.

The rule set itself is only parsed (TOML, every query compiled to validate it) when a tag is
analysed: :func:`rules_ref` keeps what a check needs before that (the rule set's name, its
file and the digest of its parse) under the rule file's path and bytes and the code digest.

Entries are plain JSON in which every tuple, list and dataclass says what it was, so that what
is read back equals, type for type, what was stored (checked before storing: anything else is
not stored).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, is_dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kvdiff.analyzers.analyze.expectations import Epoch
from kvdiff.analyzers.analyze.resultcache import ResultCache, default_result_dir, make_key
from kvdiff.analyzers.compare import golden as golden_files
from kvdiff.analyzers.compare.changes import Change
from kvdiff.analyzers.compare.check import CheckResult, Finding, TagCheck
from kvdiff.analyzers.jobs.codedigest import code_digest

if TYPE_CHECKING:
    from kvdiff.analyzers.analyze.analysis import Analysis
    from kvdiff.analyzers.analyze.ruleset import RuleSet
    from kvdiff.analyzers.source.repo import Sources
    from kvdiff.analyzers.source.types import SourceFile

CHECK_SCHEMA = 1
_TYPES = {cls.__name__: cls for cls in (TagCheck, Finding, Change, Epoch)}


@dataclass(frozen=True)
class RulesRef:
    """A rule set as a check first needs it: its name (``target``), the file it describes
    (``path``), the digest of its parse; :attr:`rules` parses it on first use."""

    target: str
    path: str
    digest: str
    function: str
    rules_file: Path | None

    @cached_property
    def rules(self) -> RuleSet:
        from kvdiff.analyzers.analyze.ruleset import load_rule_set

        return load_rule_set(self.function, self.rules_file)


def rules_ref(sources: Sources, function: str, rules_file: Path | None) -> RulesRef:
    """The rule set ``load_rule_set(function, rules_file)`` would give, from the result cache
    when that file was parsed before (same path, bytes and code), else parsed now (its errors
    raised as ``load_rule_set`` raises them)."""
    from kvdiff.analyzers.analyze import rules as packaged

    path = rules_file or Path(str(packaged.__file__)).parent / f"{function}.toml"
    try:
        data = path.read_bytes()
    except OSError:
        data = None  # parsed below, to fail as load_rule_set fails
    cache = ResultCache(default_result_dir(sources.config.cache))
    key = make_key(
        f"check-rules={CHECK_SCHEMA}",
        f"kvdiff={code_digest()}",
        f"function={function}\0{rules_file}\0{path}",
        "bytes=" + hashlib.sha256(data or b"").hexdigest(),
    )
    hit = cache.get(key) if data is not None else None
    names = ("target", "path", "digest")
    if hit is not None and all(isinstance(hit.get(k), str) for k in names) and len(hit) == 3:
        return RulesRef(hit["target"], hit["path"], hit["digest"], function, rules_file)
    from kvdiff.analyzers.analyze.ruleset import load_rule_set

    rules = load_rule_set(function, rules_file)
    ref = RulesRef(rules.target, rules.path, _digest(repr(rules)), function, rules_file)
    ref.__dict__["rules"] = rules  # parsed already: cached_property's slot
    if data is not None:
        cache.put(key, {k: getattr(ref, k) for k in names})
    return ref


def run_check_cached(
    sources: Sources,
    ref: RulesRef,
    tags: Iterable[str],
    expected_dir: Path,
    warning_of: Callable[[Analysis], str | None],
    on_warning: Callable[[str], None],
) -> CheckResult:
    """:func:`.compare.golden.run_check` through the result cache: ``warning_of`` words the
    warning an analysis calls for (None: none), ``on_warning`` gets it at each tag, hit or
    miss, in tag order. The rule set is parsed only if a tag is analysed."""
    cache = ResultCache(default_result_dir(sources.config.cache))
    results = []
    for tag in tags:
        golden, source = golden_files.tag_inputs(sources.read, ref, tag, expected_dir)
        key = _key(ref.digest, golden, source)
        found = _load(cache.get(key))
        if found is None:
            found = _analysed(ref.rules, tag, golden, source, warning_of)
            _store(cache, key, *found)
        if found[1]:
            on_warning(found[1])
        results.append(found[0])
    return CheckResult(ref.target, tuple(results))


def _analysed(
    rules: RuleSet,
    tag: str,
    golden: dict | None,
    source: SourceFile,
    warning_of: Callable[[Analysis], str | None],
) -> tuple[TagCheck, str | None]:
    warned: list[str | None] = []
    check = golden_files.check_tag(
        rules, tag, golden, source, lambda a: warned.append(warning_of(a))
    )
    return check, (warned[0] if warned else None)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _key(rules_digest: str, golden: dict | None, source: SourceFile) -> str:
    return make_key(
        f"check={CHECK_SCHEMA}",
        f"kvdiff={code_digest()}",
        f"rules={rules_digest}",
        "golden=" + ("none" if golden is None else _digest(repr(golden))),
        "source="
        + "\0".join(
            (source.tag, source.path, source.blob_id, source.origin)
            + (source.version, source.version_from)
        ),
    )


def _store(cache: ResultCache, key: str, check: TagCheck, warning: str | None) -> None:
    try:
        payload = {"check": encode(check), "warning": warning}
    except TypeError:
        return  # a value the codec does not know: not cached
    if _load(payload) == (check, warning) and repr(decode(payload["check"])) == repr(check):
        cache.put(key, payload)


def _load(payload: dict[str, Any] | None) -> tuple[TagCheck, str | None] | None:
    if payload is None:
        return None
    try:
        check, warning = decode(payload["check"]), payload["warning"]
    except (KeyError, TypeError, ValueError):
        return None  # a damaged entry is checked again
    if not isinstance(check, TagCheck) or not isinstance(warning, str | None):
        return None
    return check, warning


def encode(value: Any) -> Any:
    """``value`` as JSON data that :func:`decode` turns back into an equal value of the same
    types; TypeError for anything but str, int, bool, None, lists, tuples and the dataclasses
    of a TagCheck."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, tuple | list):
        return {type(value).__name__: [encode(v) for v in value]}
    if is_dataclass(value) and _TYPES.get(type(value).__name__) is type(value):
        items = {f.name: encode(getattr(value, f.name)) for f in fields(value)}
        return {"type": type(value).__name__, **items}
    raise TypeError(f"not cacheable: {type(value).__name__}")


def decode(data: Any) -> Any:
    """The inverse of :func:`encode`; ValueError or TypeError for what it never writes."""
    if data is None or isinstance(data, str | bool | int):
        return data
    if not isinstance(data, dict):
        raise ValueError("not an encoded value")
    if set(data) in ({"tuple"}, {"list"}):
        ((kind, items),) = data.items()
        if not isinstance(items, list):
            raise ValueError("not an encoded value")
        return tuple(map(decode, items)) if kind == "tuple" else [decode(v) for v in items]
    cls = _TYPES[data["type"]] if data.get("type") in _TYPES else None
    if cls is None or set(data) != {"type", *(f.name for f in fields(cls))}:
        raise ValueError("not an encoded value")
    return cls(**{k: decode(v) for k, v in data.items() if k != "type"})
