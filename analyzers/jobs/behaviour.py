"""``kvdiff history --behaviour``: run the derived model at every tag of a history, per scenario.

The tags are the history's own (in version order). Every tag's files the model reads (the
function's file, the headers, the callers) are fetched in one batch first; a tag at which the
model cannot run at all (a header it needs cannot be evaluated, say) is kept in the timeline as
"model unavailable" with the reason, never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.model import MODEL_TARGET
from kvdiff.analyzers.model.behaviour import (
    Behaviour,
    ScenarioTimeline,
    behaviour_of,
    behaviour_timelines,
    failed,
)
from kvdiff.analyzers.model.encoding import ModelConfig
from kvdiff.analyzers.model.interp.facts import fact_paths, tag_facts
from kvdiff.analyzers.model.interp.run import derived_outcome
from kvdiff.analyzers.model.scenarios import SCENARIO_NAMES

if TYPE_CHECKING:
    from kvdiff.analyzers.source.repo import Sources


def _tag_behaviours(sources: Sources, tag: str, config: ModelConfig) -> dict[str, Behaviour]:
    def read(path: str) -> bytes:
        return sources.read(tag, path).data

    try:
        facts = tag_facts(read, tag, config)
        return {
            s: behaviour_of(derived_outcome(read, tag, s, config, facts=facts))
            for s in SCENARIO_NAMES
        }
    except KvdiffError as exc:
        return {s: failed(tag, exc.message) for s in SCENARIO_NAMES}


def behaviour_history(
    sources: Sources, tags: Sequence[str], config: ModelConfig | None = None
) -> tuple[ScenarioTimeline, ...]:
    """Per scenario, the spans of ``tags`` with the same model behaviour."""
    config = config or ModelConfig()
    tags = list(tags)
    sources.ensure_all(tags, [MODEL_TARGET[1], *fact_paths()])
    by_tag = {tag: _tag_behaviours(sources, tag, config) for tag in tags}
    return behaviour_timelines(by_tag, tags, SCENARIO_NAMES)
