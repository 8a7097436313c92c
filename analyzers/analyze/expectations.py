"""A concept's history as data: which state it is in at each kernel release, and why.

A rule file declares, per concept, ``[[concept.<id>.history]]`` entries, oldest first::

    [[concept.young.history]]
    state = "present"                 # the first entry holds from the oldest release on

    [[concept.young.history]]
    state = "absent"
    since = "v5.11-rc1"               # first mainline release (or -rc) where it holds
    commit = "013339df116c"           # the change that caused it (or a release, for a merge)
    title = "mm/rmap: always do TTU_IGNORE_ACCESS"
    stable = ["v5.10.4"]             # first tag of each stable series that carries a backport

A tag is in an entry's range when it is at or after ``since`` in version order, or when it is a
release of one of the ``stable`` series at or after the backport listed for that series (5.10.y
from v5.10.4 on; 2.6.x.y series count three numbers). The state at a tag is the last entry
whose range holds it. ``state = "moved"`` names the sibling ``function`` that holds the concept;
``outside``/``inside`` say which other concepts' arms the hits may not / must sit in.

Rule files without a history keep the older form: ``expected_absent`` tag ranges and
``[[concept.<id>.moved]]`` entries; :func:`legacy_epoch` turns those into the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.versions import parse_version, version_key

STATES = ("present", "absent", "moved")
_KEYS = frozenset(
    {"state", "since", "commit", "title", "stable", "function", "note", "outside", "inside"}
)


@dataclass(frozen=True)
class Epoch:
    """One entry of a concept's history: the state from ``since`` (and backports) on."""

    state: str  # one of STATES
    since: str = ""  # "" for the first entry: from the oldest release on
    commit: str = ""
    title: str = ""
    stable: tuple[str, ...] = ()
    function: str = ""  # where the concept lives when state == "moved"
    note: str = ""
    outside: tuple[str, ...] = ()  # concepts whose arms may not enclose a hit
    inside: tuple[str, ...] = ()  # concepts one of whose arms must enclose every hit
    until: str = ""  # for the first entry: the change that ended it, in words

    def holds_at(self, version: str) -> bool:
        """Whether ``version`` (a version tag) is in this entry's range."""
        if not self.since:
            return True
        if version_key(version) >= version_key(self.since):
            return True
        return any(
            _same_series(version, s) and version_key(version) >= version_key(s) for s in self.stable
        )

    def backport_for(self, version: str) -> str:
        """The stable backport that puts ``version`` in range, or ""."""
        if not self.since or version_key(version) >= version_key(self.since):
            return ""
        for s in self.stable:
            if _same_series(version, s) and version_key(version) >= version_key(s):
                return s
        return ""

    def cite(self, version: str = "") -> str:
        """Where this state comes from, in words: release, commit, title, and backport."""
        if not self.since:
            return f"until {self.until}" if self.until else "in every release"
        parts = [f"since {self.since}"]
        what = " ".join(p for p in (self.commit, f'"{self.title}"' if self.title else "") if p)
        if what:
            parts.append(f"({what})")
        backport = self.backport_for(version) if version else ""
        if backport:
            parts.append(f"and in {_series_name(backport)} from its backport in {backport}")
        elif self.stable:
            parts.append("; stable backports: " + ", ".join(self.stable))
        return " ".join(parts).replace(" ;", ";")


def _series(tag: str) -> tuple[int, ...]:
    parsed = parse_version(tag)
    if parsed is None:
        return ()
    numbers = parsed[0]
    width = 3 if numbers[:1] == (2,) else 2  # 2.6.32.y, but 5.10.y
    return numbers[:width]


def _same_series(version: str, backport: str) -> bool:
    series = _series(backport)
    parsed = parse_version(version)
    return bool(series) and parsed is not None and parsed[0][: len(series)] == series


def _series_name(backport: str) -> str:
    return ".".join(str(n) for n in _series(backport)) + ".y"


def parse_history(entries: object, where: str) -> tuple[Epoch, ...]:
    """Validate ``[[concept.<id>.history]]`` tables; every mistake is a one-line KvdiffError."""
    if not isinstance(entries, list) or not entries:
        raise KvdiffError(f"{where}: history must be a list of [[…history]] tables")
    out: list[Epoch] = []
    for n, table in enumerate(entries, 1):
        at = f"{where}[{n}]"
        if not isinstance(table, dict):
            raise KvdiffError(f"{at}: each history entry is a table")
        unknown = set(table) - _KEYS
        if unknown:
            raise KvdiffError(
                f"{at}: unknown key(s) {', '.join(sorted(unknown))}; "
                f"allowed: {', '.join(sorted(_KEYS))}"
            )
        epoch = _epoch(table, at)
        if n == 1 and epoch.since:
            raise KvdiffError(f"{at}: the first entry holds from the oldest release; drop since")
        if n > 1 and not epoch.since:
            raise KvdiffError(f'{at}: needs since = "<first release where it holds>"')
        if out and out[-1].since and version_key(epoch.since) <= version_key(out[-1].since):
            raise KvdiffError(f"{at}: since {epoch.since} is not after {out[-1].since}")
        out.append(epoch)
    if len(out) > 1:
        out[0] = replace(out[0], until=out[1].cite().removeprefix("since "))
    return tuple(out)


def _strings(table: dict, key: str, at: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KvdiffError(f"{at}: {key} must be a list of strings")
    return tuple(value)


def _epoch(table: dict, at: str) -> Epoch:
    state = table.get("state")
    if state not in STATES:
        raise KvdiffError(f"{at}: state {state!r} is not one of {', '.join(STATES)}")
    since = table.get("since", "")
    if since and (not isinstance(since, str) or parse_version(since) is None):
        raise KvdiffError(f'{at}: since {since!r} is not a version tag; write e.g. "v5.11-rc1"')
    stable = _strings(table, "stable", at)
    for tag in stable:
        if parse_version(tag) is None:
            raise KvdiffError(f'{at}: stable {tag!r} is not a version tag; write e.g. "v5.10.4"')
    function = table.get("function", "")
    if (state == "moved") != bool(function):
        raise KvdiffError(f'{at}: state "moved" and function = "<sibling>" go together')
    for key in ("commit", "title", "note", "function"):
        if not isinstance(table.get(key, ""), str):
            raise KvdiffError(f"{at}: {key} must be a string")
    return Epoch(
        state=state,
        since=since,
        commit=table.get("commit", ""),
        title=table.get("title", ""),
        stable=stable,
        function=function,
        note=table.get("note", ""),
        outside=_strings(table, "outside", at),
        inside=_strings(table, "inside", at),
    )


def epoch_at(history: tuple[Epoch, ...], version: str) -> Epoch:
    """The entry in force at ``version`` (a version tag): the last one whose range holds it."""
    current = history[0]
    for epoch in history[1:]:
        if epoch.holds_at(version):
            current = epoch
    return current
