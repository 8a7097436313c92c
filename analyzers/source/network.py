"""Which upstream serves a tag, and how to fetch from it: probing, fallback, one batch per phase.

:class:`Network` is the policy over :mod:`gitnet` (the mechanism): each upstream is probed at
most once per run (its tag list and whether its ``fetch`` offers filters); an unreachable
upstream is warned about and skipped, so a later upstream can still serve the tag; a fetch tries
``partial`` (trees along the paths only), then ``blob:none`` when the server refuses tree
filters, then a plain depth-1 snapshot when it offers no filters, and says so once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.source import gitnet
from kvdiff.analyzers.source.gitnet import BLOBLESS, FULL, PARTIAL, FetchStats, GitNetError, Probe
from kvdiff.analyzers.source.progress import PhaseProgress, note, progress_enabled, warn
from kvdiff.analyzers.versions import closest_tags

HINT = (
    "check the URL (--upstream NAME=URL or [upstreams] in kvdiff.toml), "
    "or use --repo PATH / --offline"
)
_MODE_NOTES = {
    BLOBLESS: "upstream {name} refuses tree filters: fetching every tree of {n} tag(s) "
    "(blob:none), then the files read by id",
    FULL: "upstream {name} offers no fetch filters: fetching full depth-1 snapshots of {n} tag(s)",
}


# git's words for a local write failure: the hint must be about the disk, not the URL.
_DISK_WORDS = ("No space left", "File too large", "Disk quota", "Read-only file system")
# ... and for a pack it received but could not store (index-pack died, e.g. of a full disk).
_STORE_WORDS = ("index-pack", "write error", "unable to write", "unable to create")


def _hint(message: str) -> str:
    if any(word in message for word in _DISK_WORDS):
        return "the cache cannot be written: free disk space or pass --cache DIR"
    if any(word in message for word in _STORE_WORDS):
        return (
            "git could not store what it received in the cache: free disk space (or raise the "
            "file-size limit) and rerun, or pass --cache DIR"
        )
    return HINT


@dataclass(frozen=True)
class FetchRecord:
    """One network fetch this run made (for --json and the benchmark)."""

    upstream: str
    phase: str  # "trees" (the tags' commits and trees) or "blobs" (objects by id)
    mode: str  # partial | blob:none | full | by-id
    tags: tuple[str, ...]
    objects: int
    bytes: int


def remote_name(upstream: str) -> str:
    """The cache's git remote for an upstream name (config-safe characters only)."""
    return "kvdiff-" + re.sub(r"[^A-Za-z0-9_-]", "_", upstream)


class Network:
    """Probes, finds and fetches from the configured upstreams (never when offline)."""

    def __init__(
        self, upstreams: Sequence, timeout: float, quiet: bool, say: Callable = note
    ) -> None:
        self.upstreams = tuple(upstreams)
        self.timeout = timeout
        self.quiet = quiet
        self.say = say
        self._probes: dict[str, Probe | None] = {}
        self._problems: dict[str, str] = {}  # upstream name -> why it was unreachable
        self._modes: dict[str, str] = {}  # upstream name -> the mode it allowed
        self._warned: set[str] = set()
        self.log: list[FetchRecord] = []

    # -- probing ------------------------------------------------------------------------

    def probe(self, upstream) -> Probe | None:  # noqa: ANN001 - repo.Upstream (no import cycle)
        """The upstream's probe, or None (warned once) when it cannot be reached."""
        if upstream.name not in self._probes:
            progress = PhaseProgress(f"tags: listing {upstream.name}", self._progress())
            progress(0, 0)
            try:
                self._probes[upstream.name] = gitnet.probe(upstream.url, timeout=self.timeout)
            except GitNetError as exc:
                self._probes[upstream.name] = None
                self._problems[upstream.name] = str(exc)
            finally:
                progress.finish()
        return self._probes[upstream.name]

    def _progress(self) -> bool:
        return progress_enabled(self.quiet)

    def _unreachable_error(self) -> KvdiffError:
        first = next(u for u in self.upstreams if u.name in self._problems)
        others = len(self._problems) - 1
        more = f" (and {others} more upstream(s))" if others else ""
        return KvdiffError(
            f"cannot reach upstream {first.name} ({first.url}): "
            f"{self._problems[first.name]}{more}; {HINT}"
        )

    def find_upstream(self, tag: str):  # noqa: ANN201 - repo.Upstream
        """The first upstream, in order, whose listing has ``tag``."""
        if not self.upstreams:
            raise KvdiffError(
                f"tag {tag} is not in the cache or repos and no upstream is configured; "
                "pass --upstream NAME=URL (or set [upstreams] in kvdiff.toml) or --repo PATH"
            )
        seen: set[str] = set()
        for upstream in self.upstreams:
            found = self.probe(upstream)
            if found is None:
                continue
            if tag in found.tags:
                self._warn_skipped()
                return upstream
            seen |= set(found.tags)
        if len(self._problems) == len(self.upstreams):
            raise self._unreachable_error()
        reachable = ", ".join(u.name for u in self.upstreams if u.name not in self._problems)
        close = closest_tags(tag, seen)
        hint = f"closest: {', '.join(close)}" if close else "the upstreams list no similar tag"
        if self._problems:
            hint += f"; not asked (unreachable): {', '.join(self._problems)}"
        raise KvdiffError(f"tag {tag} not found in {reachable}; {hint}")

    def upstream_tags(self) -> dict[str, str]:
        """Tag -> first reachable upstream that lists it (unordered)."""
        result: dict[str, str] = {}
        for upstream in self.upstreams:
            found = self.probe(upstream)
            for tag in sorted(found.tags if found else ()):
                result.setdefault(tag, upstream.name)
        if self.upstreams and len(self._problems) == len(self.upstreams):
            raise self._unreachable_error()
        self._warn_skipped()
        return result

    def _warn_skipped(self) -> None:
        """Warn once per unreachable upstream that a later one stood in for."""
        for upstream in self.upstreams:
            problem = self._problems.get(upstream.name)
            if problem is not None and upstream.name not in self._warned:
                self._warned.add(upstream.name)
                warn(
                    f"cannot reach upstream {upstream.name} ({upstream.url}): {problem}; skipped it"
                )

    # -- fetching -----------------------------------------------------------------------

    def _modes_to_try(self, upstream) -> list[str]:  # noqa: ANN001
        if upstream.name in self._modes:
            return [self._modes[upstream.name]]
        found = self.probe(upstream)
        return [PARTIAL, BLOBLESS, FULL] if found is not None and found.filter else [FULL]

    def fetch_tags(
        self, git_dir: Path, upstream, tags: Sequence[str], paths: Iterable[str]
    ) -> FetchStats:  # noqa: ANN001
        """Fetch ``tags`` from ``upstream`` in one batch, falling back as the server requires."""
        paths = list(paths)
        remote = remote_name(upstream.name)
        gitnet.configure_remote(git_dir, remote, upstream.url)
        modes = self._modes_to_try(upstream)
        progress = PhaseProgress(
            f"trees: {len(tags)} tag(s) from {upstream.name}", self._progress()
        )
        try:
            for i, mode in enumerate(modes):
                progress.label = f"trees ({mode}): {len(tags)} tag(s) from {upstream.name}"
                try:
                    stats = gitnet.fetch_tags(
                        git_dir,
                        remote,
                        tags,
                        mode=mode,
                        paths=paths,
                        timeout=self.timeout,
                        progress=progress,
                    )
                except GitNetError as exc:
                    if i + 1 < len(modes) and gitnet.filter_refused(exc):
                        continue
                    raise self._fetch_error(upstream, tags, exc) from None
                break
        finally:
            progress.finish()
        if upstream.name not in self._modes:
            self._modes[upstream.name] = mode
            if mode in _MODE_NOTES and not self.quiet:
                self.say(_MODE_NOTES[mode].format(name=upstream.name, n=len(tags)))
        self.log.append(
            FetchRecord(upstream.name, "trees", mode, tuple(tags), stats.objects, stats.bytes)
        )
        return stats

    def fetch_objects(
        self, git_dir: Path, upstream, ids: Sequence[str], *, tree_levels: int = 0, what: str
    ) -> FetchStats:  # noqa: ANN001
        """Fetch exactly ``ids`` from ``upstream`` in one batch (``what`` names them in errors)."""
        remote = remote_name(upstream.name)
        gitnet.configure_remote(git_dir, remote, upstream.url)
        phase = "trees" if tree_levels else "blobs"
        progress = PhaseProgress(
            f"{phase}: {len(ids)} object(s) from {upstream.name}", self._progress()
        )
        try:
            stats = gitnet.fetch_objects(
                git_dir,
                remote,
                ids,
                tree_levels=tree_levels,
                timeout=self.timeout,
                progress=progress,
            )
        except GitNetError as exc:
            raise KvdiffError(
                f"cannot fetch {what} from upstream {upstream.name} ({upstream.url}): {exc}; "
                f"{_hint(str(exc))}"
            ) from None
        finally:
            progress.finish()
        self.log.append(FetchRecord(upstream.name, phase, "by-id", (), stats.objects, stats.bytes))
        return stats

    def mode_of(self, upstream_name: str) -> str | None:
        return self._modes.get(upstream_name)

    @staticmethod
    def _fetch_error(upstream, tags: Sequence[str], exc: GitNetError) -> KvdiffError:  # noqa: ANN001
        what = tags[0] if len(tags) == 1 else f"{len(tags)} tags ({tags[0]}, ...)"
        return KvdiffError(
            f"cannot fetch {what} from upstream {upstream.name} ({upstream.url}): {exc}; "
            f"{_hint(str(exc))}"
        )
