"""The behavioural timeline: per scenario, the tags at which the model's outcome changes.

Each tag's outcome of a scenario is reduced to what the scenario is about: what the PTE holds
afterwards (kept, cleared, a swap entry, a migration entry and whether it is writable, ...),
whether the call succeeded, and the concepts of the branches the run took that decide it.
Entry numbers (swap types, PFNs) are left out on purpose: MAX_SWAPFILES moves with the config
and the release, the meaning does not. Consecutive tags with the same behaviour form one span;
a change is the pair of neighbouring tags where it differs (``kvdiff history --behaviour``).
The concepts of the branches taken are reported, not compared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .outcome import Outcome

# How the two generations' return values read: 2.6's SWAP_* codes, 5.x's bool.
_RET = {
    "SWAP_SUCCESS": "succeeds",
    "SWAP_AGAIN": "succeeds",
    "true": "succeeds",
    "SWAP_FAIL": "fails",
    "false": "fails",
    "SWAP_MLOCK": "fails (mlocked)",
    "BUG": "BUG",
}
_KIND = {
    "present": "PTE kept",
    "none": "PTE cleared",
    "swap": "swap entry",
    "migration": "migration entry",
    "hwpoison": "hwpoison entry",
    "device": "device-private entry",
    "file": "file PTE",
}


@dataclass(frozen=True)
class Behaviour:
    """One scenario at one tag, reduced to its meaning (see the module docstring)."""

    tag: str
    key: str  # what is compared between tags, e.g. "migration entry (read), succeeds"
    via: tuple[str, ...] = ()  # concepts of the taken branches, in trace order
    detail: str = ""  # the outcome's cell, the n/a reason, why undetermined, or the error
    function: str = ""  # the per-VMA function that ran (from the flags' source), if known


def behaviour_of(o: Outcome) -> Behaviour:
    """The behaviour of one outcome."""
    if not o.applicable:
        return Behaviour(o.tag, "not applicable", (), o.reason)
    if o.undetermined:
        return Behaviour(o.tag, "undetermined", (), o.undetermined)
    d = o.decoded_after
    what = _KIND.get(d.kind, d.kind)
    if d.kind in ("swap", "migration", "device") and d.write is not None:
        what += " (write)" if d.write else " (read)"
    ret = _RET.get(o.ret, f"returns {o.ret}" if o.ret else "returns nothing")
    via = tuple(dict.fromkeys(s.concept for s in o.trace if s.taken and s.concept))
    function = next((f for f in ("try_to_migrate_one", "try_to_unmap_one")
                     if f"{f}()" in o.flags_source), "")  # fmt: skip
    return Behaviour(o.tag, f"{what}, {ret}", via, o.cell, function)


def failed(tag: str, error: str) -> Behaviour:
    """A tag at which the model could not run at all (a header it needs cannot be read...)."""
    return Behaviour(tag, "model unavailable", (), error)


@dataclass(frozen=True)
class Span:
    first_tag: str
    last_tag: str
    tags: tuple[str, ...]
    behaviour: Behaviour  # the first tag's
    via: tuple[str, ...] = ()  # the concepts taken at any tag of the span, in order


@dataclass(frozen=True)
class ScenarioTimeline:
    scenario: str
    spans: tuple[Span, ...]

    @property
    def changes(self) -> tuple[tuple[Span, Span], ...]:
        """Each pair of neighbouring spans: the outcome changes between them."""
        return tuple(zip(self.spans, self.spans[1:], strict=False))


def _same(a: Behaviour, b: Behaviour) -> bool:
    # The branches taken (via) are not compared: a rule set that labels one more branch is not a
    # change of behaviour. The function that runs is (v5.14's try_to_migrate_one).
    return (a.key, a.function) == (b.key, b.function)


def scenario_timeline(scenario: str, behaviours: Sequence[Behaviour]) -> ScenarioTimeline:
    """Spans of consecutive tags (in the given order) with the same behaviour."""
    spans: list[list[Behaviour]] = []
    for b in behaviours:
        if spans and _same(spans[-1][0], b):
            spans[-1].append(b)
        else:
            spans.append([b])
    return ScenarioTimeline(
        scenario,
        tuple(
            Span(
                s[0].tag,
                s[-1].tag,
                tuple(x.tag for x in s),
                s[0],
                tuple(dict.fromkeys(c for x in s for c in x.via)),
            )
            for s in spans
        ),
    )


def behaviour_timelines(
    by_tag: Mapping[str, Mapping[str, Behaviour]], tags: Sequence[str], scenarios: Sequence[str]
) -> tuple[ScenarioTimeline, ...]:
    """One timeline per scenario over ``tags`` (each tag: scenario -> behaviour)."""
    return tuple(
        scenario_timeline(s, [by_tag[t][s] for t in tags if s in by_tag.get(t, {})])
        for s in scenarios
    )
