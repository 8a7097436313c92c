"""The executable reference model of try_to_unmap_one() at each target release.

One function per tag mirrors the code at that tag (``v2_6_7`` ... ``v5_10_37``), ``encoding``
turns PTE values into swap/migration/hwpoison entries and back, ``fault`` says what the next
fault does with the result, and ``scenarios`` runs the named callers.
"""

from __future__ import annotations

import importlib
from typing import Any

# The one function, in the one file, that the model covers; other stages ask here.
MODEL_TARGET = ("try_to_unmap_one", "mm/rmap.c")

# Each name below is imported from its module on first use: a command whose outcomes come from
# the result cache (``kvdiff model --matrix``, warm) never loads the reference models.
_FROM = {
    "MODEL_TAGS": "encoding",
    "Decoded": "encoding",
    "ModelConfig": "encoding",
    "decode": "encoding",
    "ModelBranch": "tracing",
    "Outcome": "outcome",
    "TraceStep": "outcome",
    "SCENARIO_NAMES": "names",
    "SCENARIOS": "scenarios",
    "Scenario": "scenarios",
    "matrix": "scenarios",
    "model_branches": "scenarios",
    "run_scenario": "scenarios",
}


def __getattr__(name: str) -> Any:
    if name not in _FROM:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_FROM[name]}"), name)
    globals()[name] = value
    return value


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
