"""The derived model's outcomes at a tag, kept in the result cache between runs.

What the derived model does at a tag depends only on the files it reads there (the function's
file and the headers its facts come from), the scenarios and the kernel options: the key holds
the tag's commit id (which fixes every file at the tag), the options, the scenario names and a
digest of kvdiff's code (:func:`.codedigest.code_digest`: the model, its tables and every other
module of ``analyzers/``). An entry that does not decode to the same outcomes is a miss. A hit
needs only the outcome's dataclasses: the interpreter is imported on a miss.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import TYPE_CHECKING, Any

from kvdiff.analyzers.analyze.resultcache import ResultCache, default_result_dir, make_key
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.jobs.codedigest import code_digest
from kvdiff.analyzers.model.encoding import Decoded, ModelConfig
from kvdiff.analyzers.model.names import SCENARIO_NAMES
from kvdiff.analyzers.model.outcome import Outcome, TraceStep

if TYPE_CHECKING:
    from kvdiff.analyzers.source.repo import Sources
    from kvdiff.analyzers.source.types import TagInfo

MODEL_SCHEMA = 1
_OUTCOME_FIELDS = {f.name for f in fields(Outcome)}


def outcome_plain(o: Outcome) -> dict[str, Any]:
    return asdict(o)


def outcome_from_plain(d: dict[str, Any]) -> Outcome:
    """The inverse of :func:`outcome_plain` (after a JSON round trip: lists for tuples)."""
    if set(d) != _OUTCOME_FIELDS:
        raise ValueError("not an outcome")
    return Outcome(
        **{
            **d,
            "decoded_before": Decoded(**d["decoded_before"]),
            "decoded_after": Decoded(**d["decoded_after"]),
            "side_effects": tuple(d["side_effects"]),
            "trace": tuple(TraceStep(**t) for t in d["trace"]),
            "flags": tuple(d["flags"]),
            "config": ModelConfig(**d["config"]),
        }
    )


def tag_outcomes(
    sources: Sources,
    info: TagInfo,
    config: ModelConfig,
    cache: ResultCache,
    missing_facts_ok: bool = False,
) -> tuple[Outcome, ...] | None:
    """Every scenario's derived outcome at ``info.tag`` (scenario order). A tag whose header
    facts cannot be had raises the KvdiffError :func:`.model.interp.facts.tag_facts` raises,
    or gives None with ``missing_facts_ok``."""
    tag = info.tag
    key = make_key(
        f"model={MODEL_SCHEMA}",
        f"kvdiff={code_digest()}",
        f"tag={tag}\0{info.target_id}",
        "config=" + ",".join(f"{k}={v}" for k, v in sorted(asdict(config).items())),
        "scenarios=" + ",".join(SCENARIO_NAMES),
    )
    hit = cache.get(key)
    if hit is not None:
        try:
            found = tuple(outcome_from_plain(o) for o in hit["outcomes"])
            if [o.scenario for o in found] == list(SCENARIO_NAMES):
                return found
        except (KeyError, TypeError, ValueError, AttributeError):
            pass  # a damaged entry is computed again
    from kvdiff.analyzers.model.interp.facts import tag_facts
    from kvdiff.analyzers.model.interp.run import derived_outcome

    def read(path: str) -> bytes:
        return sources.read(tag, path).data

    try:
        facts = tag_facts(read, tag, config)
    except KvdiffError:
        if missing_facts_ok:
            return None
        raise
    found = tuple(derived_outcome(read, tag, s, config, facts=facts) for s in SCENARIO_NAMES)
    cache.put(key, {"outcomes": [outcome_plain(o) for o in found]})
    return found


def derived_matrix_cached(
    sources: Sources, tags: tuple[str, ...], config: ModelConfig
) -> tuple[Outcome, ...]:
    """:func:`.model.interp.run.derived_matrix` through the result cache: every scenario at
    every tag, scenarios in order, tags as given (the same order and outcomes)."""
    from kvdiff.analyzers.model import MODEL_TARGET
    from kvdiff.analyzers.model.tables import fact_paths

    infos = {i.tag: i for i in sources.ensure_all(tags, [MODEL_TARGET[1], *fact_paths()])}
    cache = ResultCache(default_result_dir(sources.config.cache))
    done: dict[str, tuple[Outcome, ...]] = {}
    out = []
    for tag in tags:
        if tag not in done:
            found = tag_outcomes(sources, infos[tag], config, cache)
            assert found is not None  # missing facts raise
            done[tag] = found
        out += [(o.scenario, tag, o) for o in done[tag]]
    order = {s: i for i, s in enumerate(SCENARIO_NAMES)}
    out.sort(key=lambda t: (order[t[0]], tags.index(t[1])))
    return tuple(o for _s, _t, o in out)
