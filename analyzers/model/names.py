"""The scenarios' names, in matrix order.

What the CLI's help, the outcome cache and the matrix's rows need, without loading the
reference models: ``scenarios.py`` defines the scenarios and refuses to load if their names are
not these.
"""

from __future__ import annotations

SCENARIO_NAMES: tuple[str, ...] = (
    "reclaim-anon-swapcache",
    "compaction-anon",
    "migrate-anon-swapcache",
    "migrate-file",
    "reclaim-file",
    "reclaim-mlocked",
    "reclaim-young",
    "gup-pinned",
)
