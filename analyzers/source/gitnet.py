"""The network half of the sources: system ``git`` fetching into the bare cache pygit2 reads.

libgit2 (pygit2) has no fetch filters and speaks protocol v0 only, so every network operation
runs ``git`` in a subprocess against the same bare cache:

- :func:`probe` lists an upstream's tags and reads its protocol-v2 capability advertisement
  (one connection): does its ``fetch`` offer ``filter``?
- :func:`fetch_tags` fetches many tags at depth 1 in ONE ``git fetch`` (one connection), with a
  filter that keeps only the trees the command walks; :func:`fetch_objects` fetches exactly the
  objects (blobs, or missing trees) named by id, in one more.

Every ``git`` runs with a bounded wait: it is killed when neither stdout nor stderr says
anything for ``timeout`` seconds (git reports progress while data flows, so only a silent
upstream trips it), and it dies with kvdiff (``PR_SET_PDEATHSIG``), so a killed kvdiff never
leaves a git writing into the cache behind the next run's lock.
"""

from __future__ import annotations

import ctypes
import os
import re
import select
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kvdiff.analyzers.source.types import DEFAULT_TIMEOUT

__all__ = ["DEFAULT_TIMEOUT"]  # still importable from here

# How a tag's objects are fetched, best first (see README "What a first run downloads").
PARTIAL = "partial"  # depth 1, trees along the path only, then blobs by id
BLOBLESS = "blob:none"  # depth 1, every tree, then blobs by id (deep tree filters refused)
FULL = "full"  # depth 1, whole snapshot (the server offers no filters)

_PROGRESS = re.compile(
    r"(?P<phase>Receiving objects|Counting objects|Compressing objects|Enumerating objects)"
    r":\s+(?:\d+%\s+)?\(?(?P<done>\d+)(?:/(?P<total>\d+))?\)?"
    r"(?:,\s+(?P<size>[\d.]+)\s+(?P<unit>bytes|KiB|MiB|GiB))?"
)
_UNITS = {"bytes": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}
_FILTER_REFUSED = re.compile(r"filter|filter-spec", re.IGNORECASE)

Progress = Callable[[int, int], None]  # (objects received, bytes received)


class GitNetError(Exception):
    """A git network operation failed; ``str()`` is one line (git's own last message)."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


@dataclass(frozen=True)
class Probe:
    """What one connection to an upstream told us."""

    url: str
    protocol: int  # 2, or 0/1 for servers that do not speak v2
    filter: bool  # the server's fetch offers object filters
    tags: dict[str, str]  # tag name -> object id its ref points at (not peeled)


@dataclass
class GitResult:
    """What one git subprocess gave back."""

    stdout: bytes = b""
    stderr: str = ""
    objects: int = 0
    bytes: int = 0


@dataclass
class FetchStats:
    """What one fetch received (pack sizes on disk: what came over the wire, uncompressed
    framing aside)."""

    mode: str
    objects: int = 0
    bytes: int = 0
    connections: int = 0
    filter_spec: str | None = None
    packs: list[str] = field(default_factory=list)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: git dies if kvdiff is killed
    except (OSError, AttributeError):
        pass
    os.setpgrp()  # a Ctrl-C reaches kvdiff, which stops git itself (clean, no git noise)


def _git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "LC_ALL": "C",  # parseable messages
            "GIT_TERMINAL_PROMPT": "0",  # never wait for a password
            "GIT_NO_LAZY_FETCH": "1",  # kvdiff decides what to fetch (git >= 2.44 honours it)
            "GIT_PROTOCOL_FROM_USER": "0",
        }
    )
    env.pop("GIT_DIR", None)
    env.update(extra or {})
    return env


def _last_message(stderr: str) -> str:
    """git's most telling stderr line (fatal/error first), progress lines left out."""
    lines = [
        " ".join(part.split())
        for line in stderr.replace("\r", "\n").splitlines()
        if (part := line.strip()) and not _PROGRESS.search(part)
    ]
    lines = [ln for ln in lines if ln and not ln.startswith("notice:")]
    for prefix in ("fatal:", "error:", "remote: fatal:", "remote: error:"):
        chosen = [i for i, ln in enumerate(lines) if ln.startswith(prefix)]
        if chosen:
            i = chosen[-1]
            text = lines[i].removeprefix("fatal: ")
            if text.endswith(":") and i + 1 < len(lines):  # "unable to connect to HOST:" + why
                text += " " + lines[i + 1]
            return text
    return lines[-1] if lines else "git failed without a message"


def run_git(
    args: Sequence[str],
    *,
    timeout: float,
    progress: Progress | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> GitResult:
    """Run ``git ARGS``; kill it after ``timeout`` seconds without output. Raise GitNetError."""
    result = GitResult()
    try:
        proc = subprocess.Popen(
            ["git", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_git_env(env),
            cwd=cwd,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - needed for PDEATHSIG, no threads here
        )
    except OSError as exc:
        raise GitNetError(f"cannot run git ({exc}); install git (Debian package git)") from None
    out, err = bytearray(), bytearray()
    streams = {proc.stdout: out, proc.stderr: err}
    try:
        deadline = time.monotonic() + timeout
        while streams:
            left = deadline - time.monotonic()
            if left <= 0:
                raise GitNetError(f"no answer for {timeout:g} s", timed_out=True)
            ready, _, _ = select.select(list(streams), [], [], left)
            for stream in ready:
                chunk = os.read(stream.fileno(), 65536)
                if not chunk:
                    del streams[stream]
                    continue
                streams[stream].extend(chunk)
                deadline = time.monotonic() + timeout
                if stream is proc.stderr:
                    _report_progress(err, result, progress)
        proc.wait()
    except BaseException:
        _stop(proc)
        raise
    finally:
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    result.stdout = bytes(out)
    result.stderr = err.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise GitNetError(_last_message(result.stderr))
    return result


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
    proc.wait()


def _report_progress(err: bytearray, result: GitResult, progress: Progress | None) -> None:
    tail = err[-400:].decode("utf-8", "replace").replace("\r", "\n").splitlines()
    for line in reversed(tail):
        m = _PROGRESS.search(line)
        if m and m.group("phase") == "Receiving objects":
            result.objects = int(m.group("done"))
            if m.group("size"):
                result.bytes = int(float(m.group("size")) * _UNITS[m.group("unit")])
            if progress is not None:
                progress(result.objects, result.bytes)
            return


# -- probing ------------------------------------------------------------------------------


def probe(url: str, *, timeout: float) -> Probe:
    """List ``url``'s tags and read its capabilities, in one connection (protocol v2)."""
    with tempfile.TemporaryDirectory(prefix="kvdiff-probe-") as tmp:
        trace = Path(tmp) / "trace"
        result = run_git(
            ["-c", "protocol.version=2", "ls-remote", "--tags", url],
            timeout=timeout,
            env={"GIT_TRACE_PACKET": str(trace)},
            cwd=Path(tmp),
        )
        try:
            packets = trace.read_text(encoding="utf-8", errors="replace")
        except OSError:
            packets = ""
    protocol, offers_filter = _capabilities(packets)
    tags: dict[str, str] = {}
    for line in result.stdout.decode("utf-8", "replace").splitlines():
        oid, _, ref = line.partition("\t")
        if ref.startswith("refs/tags/") and not ref.endswith("^{}"):
            tags[ref[len("refs/tags/") :]] = oid
    return Probe(url=url, protocol=protocol, filter=offers_filter, tags=tags)


def _capabilities(packets: str) -> tuple[int, bool]:
    """(protocol version, fetch offers ``filter``) from a GIT_TRACE_PACKET of ls-remote."""
    received = [
        line.split("< ", 1)[1]
        for line in packets.splitlines()
        if "packet:" in line and "< " in line
    ]
    if "version 2" in received:
        for line in received:
            if line.startswith("fetch="):
                return 2, "filter" in line[len("fetch=") :].split()
        return 2, False
    # v0/v1: capabilities follow a NUL on the first advertised ref
    for line in received:
        if "\\0" in line or "\0" in line:
            caps = re.split(r"\\0|\0", line, maxsplit=1)[1].split()
            return 0, "filter" in caps
    return 0, False


# -- fetching -----------------------------------------------------------------------------


def tree_depth(paths: Iterable[str]) -> int:
    """The ``tree:N`` depth that keeps the trees along every path: root is depth 0."""
    return max((p.strip("/").count("/") + 1 for p in paths), default=1)


def filter_for(mode: str, paths: Iterable[str]) -> str | None:
    if mode == PARTIAL:
        return f"combine:tree:{tree_depth(paths)}+blob:none"
    if mode == BLOBLESS:
        return "blob:none"
    return None


def _git_dir_args(git_dir: Path) -> list[str]:
    return [
        f"--git-dir={git_dir}",
        "-c",
        "protocol.version=2",
        # keep every fetch a pack: a promisor pack must stay a pack (its .promisor marks it)
        "-c",
        "transfer.unpackLimit=1",
        "-c",
        "fetch.writeCommitGraph=false",
        "-c",
        "gc.auto=0",  # no background repack while another kvdiff may read
        "-c",
        "maintenance.auto=false",
    ]


def configure_remote(git_dir: Path, remote: str, url: str) -> None:
    """Name ``url`` as a promisor remote of the cache (git requires one to fetch filtered)."""
    current = _config_get(git_dir, f"remote.{remote}.url")
    settings = {
        f"remote.{remote}.url": url,
        f"remote.{remote}.promisor": "true",
        f"remote.{remote}.partialclonefilter": "blob:none",
        f"remote.{remote}.tagopt": "--no-tags",
    }
    if current == url and _config_get(git_dir, f"remote.{remote}.promisor") == "true":
        return
    for key, value in settings.items():
        subprocess.run(
            ["git", f"--git-dir={git_dir}", "config", key, value],
            check=True,
            capture_output=True,
            env=_git_env(),
        )


def remote_url(git_dir: Path, remote: str) -> str | None:
    """The URL the cache recorded for ``remote`` (the promisor of what it fetched), if any."""
    return _config_get(git_dir, f"remote.{remote}.url")


def _config_get(git_dir: Path, key: str) -> str | None:
    done = subprocess.run(
        ["git", f"--git-dir={git_dir}", "config", "--get", key],
        capture_output=True,
        text=True,
        env=_git_env(),
    )
    return done.stdout.strip() if done.returncode == 0 else None


def _packs(git_dir: Path) -> set[Path]:
    return set((git_dir / "objects" / "pack").glob("pack-*.pack"))


def _idx_objects(pack: Path) -> int:
    """Object count from a pack's .idx (v2: fanout[255] after the 8-byte header)."""
    try:
        with open(pack.with_suffix(".idx"), "rb") as fh:
            fh.seek(8 + 255 * 4)
            return int.from_bytes(fh.read(4), "big")
    except OSError:
        return 0


def _fetch(
    git_dir: Path,
    remote: str,
    args: Sequence[str],
    *,
    mode: str,
    filter_spec: str | None,
    timeout: float,
    progress: Progress | None,
) -> FetchStats:
    before = _packs(git_dir)
    run_git(
        [*_git_dir_args(git_dir), *args],
        timeout=timeout,
        progress=progress,
    )
    new = sorted(_packs(git_dir) - before)
    return FetchStats(
        mode=mode,
        objects=sum(_idx_objects(p) for p in new),
        bytes=sum(p.stat().st_size for p in new),
        connections=1,
        filter_spec=filter_spec,
        packs=[p.name for p in new],
    )


def fetch_tags(
    git_dir: Path,
    remote: str,
    tags: Sequence[str],
    *,
    mode: str,
    paths: Iterable[str],
    timeout: float,
    progress: Progress | None = None,
) -> FetchStats:
    """Fetch ``tags`` at depth 1 in one ``git fetch``; ``mode`` picks the filter."""
    spec = filter_for(mode, paths)
    args = ["fetch", "--no-tags", "--no-write-fetch-head", "--depth=1", "--progress"]
    if spec is not None:
        args.append(f"--filter={spec}")
    args.append(remote)
    args += [f"+refs/tags/{tag}:refs/tags/{tag}" for tag in tags]
    return _fetch(
        git_dir, remote, args, mode=mode, filter_spec=spec, timeout=timeout, progress=progress
    )


def fetch_objects(
    git_dir: Path,
    remote: str,
    ids: Sequence[str],
    *,
    tree_levels: int = 0,
    timeout: float,
    progress: Progress | None = None,
) -> FetchStats:
    """Fetch exactly ``ids`` (blobs, or trees plus ``tree_levels`` levels below) in one go.

    ``fetch.negotiationAlgorithm=noop`` sends no "have" lines: with them the server may assume
    we hold what our commits reach, and leave the wanted objects out.
    """
    spec = f"combine:tree:{tree_levels}+blob:none" if tree_levels else "blob:none"
    args = [
        "-c",
        "fetch.negotiationAlgorithm=noop",
        "fetch",
        "--no-tags",
        "--no-write-fetch-head",
        "--progress",
        f"--filter={spec}",
        remote,
        *ids,
    ]
    return _fetch(
        git_dir, remote, args, mode="by-id", filter_spec=spec, timeout=timeout, progress=progress
    )


def filter_refused(exc: GitNetError) -> bool:
    """The server turned down the filter we asked for (e.g. ``filter 'tree' not supported``)."""
    return not exc.timed_out and bool(_FILTER_REFUSED.search(str(exc)))
