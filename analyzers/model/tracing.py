"""Records which source branches a model run evaluated, and what it did on the way."""

from __future__ import annotations

from dataclasses import dataclass

from .outcome import TraceStep


@dataclass(frozen=True)
class ModelBranch:
    """One branch the model implements, tied to the source.

    ``condition`` is the branch condition exactly as written at ``file``:``line`` in the corpus
    at that tag, with runs of whitespace collapsed to one space ("" for a plain ``else``).
    """

    concept: str
    condition: str
    file: str
    line: int


@dataclass(frozen=True)
class UnmapResult:
    """What one version's try_to_unmap_one() did."""

    pte_after: int
    ret: str
    side_effects: tuple[str, ...]
    trace: tuple[TraceStep, ...]


def branch_table(
    path: str, rows: tuple[tuple[str, str, str, int], ...]
) -> tuple[dict[str, ModelBranch], tuple[ModelBranch, ...]]:
    """(key, concept, condition, line) rows -> lookup by key, and the branches in source order."""
    by_key = {key: ModelBranch(concept, cond, path, line) for key, concept, cond, line in rows}
    ordered = tuple(sorted(by_key.values(), key=lambda b: (b.line, b.concept)))
    return by_key, ordered


class Tracer:
    def __init__(self, branches: dict[str, ModelBranch]) -> None:
        self._branches = branches
        self.steps: list[TraceStep] = []
        self.effects: list[str] = []

    def branch(self, key: str, taken: bool) -> bool:
        """Record that the branch ``key`` was evaluated; return ``taken`` so it reads like C."""
        b = self._branches[key]
        self.steps.append(TraceStep(b.concept, b.condition, b.file, b.line, taken))
        return taken

    def effect(self, text: str) -> None:
        self.effects.append(text)
