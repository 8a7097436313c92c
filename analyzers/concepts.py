"""Concept ids: the named branches kvdiff recognises, shared by the parse rules, the model's
traces and the site. One place, so that the three cannot drift apart.

A concept id appears in a rule file (``analyzers/analyze/rules/*.toml``), in a model trace,
and as a key of the annotation data. Adding a concept means adding it here first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Concept:
    """One concept of the registry: its id, title and summary."""

    id: str
    title: str
    summary: str


CONCEPTS: tuple[Concept, ...] = (
    Concept("mlock", "mlock bail-out", "the VMA is VM_LOCKED (or the page mlocked): do not unmap"),
    Concept("young", "young bail-out", "the PTE was recently referenced: keep the page, fail"),
    Concept("gup", "get_user_pages check", "2.6.7: a swap-cache page with an extra reference"),
    Concept(
        "device_migration",
        "zone-device migration",
        "a ZONE_DEVICE page under TTU_MIGRATION gets a migration entry",
    ),
    Concept("hwpoison", "hwpoison", "a poisoned page gets a hwpoison entry"),
    Concept("guest_unused", "guest-unused PTE", "pte_unused(): the guest discarded the page"),
    Concept(
        "migration",
        "migration entry",
        "the PTE becomes a migration entry that encodes the PFN",
    ),
    Concept("anon", "anonymous page", "the PageAnon branch"),
    Concept(
        "lazyfree",
        "MADV_FREE page",
        "a clean lazily-freed anon page is discarded instead of swapped",
    ),
    Concept(
        "swapcache",
        "swap entry",
        "an anon page with a swap slot: the PTE becomes a swap entry",
    ),
    Concept("file", "file-backed page", "a file page: the PTE stays cleared"),
)

CONCEPT_IDS: tuple[str, ...] = tuple(c.id for c in CONCEPTS)
BY_ID: dict[str, Concept] = {c.id: c for c in CONCEPTS}


def hit_lines(statuses: Iterable[Any]) -> dict[int, tuple[str, ...]]:
    """Real line -> ids of the concepts whose target-function hits cover it (rule order), for
    concept statuses as the analysis and the pages hold them (``.concept``, ``.hits`` with
    ``.moved``, ``.start_line``, ``.end_line``)."""
    lines: dict[int, list[str]] = {}
    for status in statuses:
        for hit in status.hits:
            if hit.moved:
                continue
            for line in range(hit.start_line, hit.end_line + 1):
                ids = lines.setdefault(line, [])
                if status.concept not in ids:
                    ids.append(status.concept)
    return {line: tuple(ids) for line, ids in sorted(lines.items())}
