"""What a model run produces: the branches it went through and the PTE it left behind.

The hand models' own records (a branch they implement, one call's result) are in
:mod:`.tracing`: a command whose outcomes come from the result cache needs only these.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .encoding import Decoded, ModelConfig


@dataclass(frozen=True)
class TraceStep:
    """One branch a model run evaluated: where it is in the source, and whether it was taken."""

    concept: str
    condition: str
    file: str
    line: int
    taken: bool

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    """One scenario at one tag: the PTE before and after, what the call returned and did, its
    trace, and what the next fault does."""

    tag: str
    scenario: str
    applicable: bool
    reason: str  # why not applicable, or the assumptions behind the caller's flags
    pte_before: int
    pte_after: int
    decoded_before: Decoded
    decoded_after: Decoded
    ret: str  # "SWAP_AGAIN" | "SWAP_FAIL" | "SWAP_MLOCK" | "true" | "false" | "" (not applicable)
    side_effects: tuple[str, ...]
    trace: tuple[TraceStep, ...]
    next_fault: str
    flags: tuple[str, ...] = ()  # the TTU_* flags the caller passed, sorted
    flags_source: str = ""  # where the caller's flags come from (file:line, or the assumption)
    config: ModelConfig = ModelConfig()  # the kernel options the entry numbers assume
    # Why the derived model cannot tell the outcome ("" when it can): names the unknown helper
    # (or construct) and its line. Never set by the hand models.
    undetermined: str = ""
    # The per-VMA function the derived model ran (try_to_unmap_one, or try_to_migrate_one from
    # v5.14); "" for the hand models. Not compared and not in the JSON (the schema stays).
    function: str = field(default="", compare=False)

    @property
    def cell(self) -> str:
        """The one-line summary used in the matrix."""
        if not self.applicable:
            return "n/a"
        if self.undetermined:
            return "undetermined"
        return f"{self.decoded_after.text} / {self.ret}"

    def to_json(self) -> dict:
        return {
            "tag": self.tag,
            "scenario": self.scenario,
            "applicable": self.applicable,
            "reason": self.reason,
            "flags": list(self.flags),
            "flags_source": self.flags_source,
            "pte_before": f"{self.pte_before:#018x}",
            "pte_after": f"{self.pte_after:#018x}",
            "decoded_before": self.decoded_before.to_json(),
            "decoded_after": self.decoded_after.to_json(),
            "ret": self.ret,
            "side_effects": list(self.side_effects),
            "trace": [step.to_json() for step in self.trace],
            "next_fault": self.next_fault,
            "config": {k: "y" if v else "n" for k, v in self.config.kconfig().items()},
            "undetermined": self.undetermined,
        }
