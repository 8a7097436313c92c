"""The executable reference model of try_to_unmap_one() at each target release.

One function per tag mirrors the code at that tag (``v2_6_7`` ... ``v5_10_37``), ``encoding``
turns PTE values into swap/migration/hwpoison entries and back, ``fault`` says what the next
fault does with the result, and ``scenarios`` runs the named callers.
"""

from .encoding import MODEL_TAGS, Decoded, ModelConfig, decode
from .outcome import ModelBranch, Outcome, TraceStep
from .scenarios import SCENARIO_NAMES, SCENARIOS, Scenario, matrix, model_branches, run_scenario

# The one function, in the one file, that the model covers; other stages ask here.
MODEL_TARGET = ("try_to_unmap_one", "mm/rmap.c")

__all__ = [
    "MODEL_TAGS",
    "MODEL_TARGET",
    "SCENARIOS",
    "SCENARIO_NAMES",
    "Decoded",
    "ModelBranch",
    "ModelConfig",
    "Outcome",
    "Scenario",
    "TraceStep",
    "decode",
    "matrix",
    "model_branches",
    "run_scenario",
]
