"""The one vocabulary of differences: what changed about a concept between two sides.

A side is a tag, a version in a timeline, or a golden file. The site's pair pages
(:mod:`.facts`), the history timeline (:mod:`.timeline`) and ``kvdiff check`` (:mod:`.golden`)
all describe differences as :class:`Change` values with one of the kinds below; only
``present/`` turns them into words.
"""

from __future__ import annotations

from dataclasses import dataclass

# A concept's branch exists on one side only.
APPEARED = "appeared"
VANISHED = "vanished"
ABSENT_BOTH = "absent-both"
# It left the target function for a sibling, or came back.
MOVED = "moved"
RETURNED = "returned"
# Its condition, enclosing function, nesting or calls differ.
CONDITION_CHANGED = "condition-changed"
FUNCTION_CHANGED = "function-changed"
PATH_CHANGED = "path-changed"
MOVED_INTO_ANON = "moved-into-anon"
MOVED_OUT_OF_ANON = "moved-out-of-anon"
CALLS_ADDED = "calls-added"
CALLS_REMOVED = "calls-removed"
# Only its lines moved (the golden comparison reports it; it is not a failure).
LINE_DRIFT = "line-drift"
UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Change:
    """One difference in one concept. ``before``/``after`` hold what the kind compares
    (conditions, function names, branch path steps or call names), in file order; ``functions``
    names the functions holding the branch on the later side (empty when it vanished)."""

    concept: str
    kind: str
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
