"""A kernel-sized upstream built at test time, and loopback network helpers to measure fetches.

:func:`build_kernel_sized` writes, with one ``git fast-import`` stream, a bare repository whose
snapshots look like a kernel tree in size and shape: >= 50,000 files of random text in >= 4,000
directories, the corpus files at their real paths (mm/rmap.c, include/linux/..., arch/x86/...),
and one commit per tag, each changing a few hundred random files so the trees differ.

:class:`CountingProxy` forwards loopback TCP to a git daemon and counts connections and bytes
in each direction (optionally delaying every read, an emulated round-trip time);
:class:`StallServer` accepts connections and never answers.
"""

from __future__ import annotations

import base64
import contextlib
import queue
import random
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

CORPUS_TAGS = ("v2.6.7", "v2.6.35", "v5.1", "v5.10.37")
_TOP = [
    *("arch", "drivers", "fs", "include", "kernel", "mm", "net", "sound", "tools", "lib"),
    *("block", "crypto", "security", "scripts", "init", "ipc", "virt", "samples", "firmware"),
    "usr",
]


@dataclass(frozen=True)
class KernelSized:
    path: Path  # the bare repository
    tags: tuple[str, ...]  # in the order they were committed
    files: int  # files per snapshot
    directories: int  # directories per snapshot (root excluded)
    seconds: float  # build time


def _layout(rng: random.Random, n_files: int) -> tuple[list[str], int]:
    """File paths spread over top/sNN/dNN leaf directories (20 x 10 x 21 = 4,200 leaves)."""
    leaves = [f"{top}/s{i:02d}/d{j:02d}" for top in _TOP for i in range(10) for j in range(21)]
    dirs = len(leaves) + len(_TOP) * 10 + len(_TOP)
    paths = [f"{leaves[k % len(leaves)]}/f{k // len(leaves):02d}_{k}.c" for k in range(n_files)]
    rng.shuffle(paths)
    return paths, dirs


def _text(rng: random.Random, size: int) -> bytes:
    return base64.b64encode(rng.randbytes(size * 3 // 4)) + b"\n"


def build_kernel_sized(
    dest: Path,
    corpus: Path,
    *,
    extra_tags: int = 46,
    n_files: int = 50_400,
    changes_per_tag: int = 200,
    seed: int = 12,
) -> KernelSized:
    """Build the repository at ``dest`` (bare). Tags: the corpus tags (with their files) first,
    then ``extra_tags`` release-like tags v6.0, v6.1, ... whose mm/rmap.c cycles through the
    corpus versions, so a history over them has a few distinct contents."""
    start = time.monotonic()
    rng = random.Random(seed)
    paths, dirs = _layout(rng, n_files)
    corpus_files = {
        tag: {
            str(p.relative_to(corpus / tag)): p.read_bytes()
            for p in sorted((corpus / tag).rglob("*"))
            if p.is_file()
        }
        for tag in CORPUS_TAGS
    }
    subprocess.run(["git", "init", "-q", "--bare", str(dest)], check=True)
    proc = subprocess.Popen(
        ["git", f"--git-dir={dest}", "fast-import", "--quiet", "--done"],
        stdin=subprocess.PIPE,
    )
    assert proc.stdin is not None
    out = proc.stdin
    mark = 0

    def blob(data: bytes) -> int:
        nonlocal mark
        mark += 1
        out.write(b"blob\nmark :%d\ndata %d\n%s\n" % (mark, len(data), data))
        return mark

    tags = [*CORPUS_TAGS, *(f"v6.{i}" for i in range(extra_tags))]
    contents = {p: blob(_text(rng, rng.randint(120, 700))) for p in paths}
    previous_corpus: set[str] = set()
    commit_mark_prev = 0
    when = 1_100_000_000
    for n, tag in enumerate(tags):
        changed = {p: contents[p] for p in paths} if n == 0 else {}
        for p in rng.sample(paths, changes_per_tag) if n else ():
            contents[p] = changed[p] = blob(_text(rng, rng.randint(120, 700)))
        files = corpus_files[CORPUS_TAGS[n % len(CORPUS_TAGS)]]
        corpus_marks = {p: blob(d) for p, d in files.items()}
        when += 86_400 * 30
        commit_mark = mark + 1
        mark += 1
        lines = [
            b"commit refs/heads/master",
            b"mark :%d" % commit_mark,
            b"committer kernel-sized <ks@localhost> %d +0000" % when,
            b"data %d" % len(f"Linux {tag}"),
            f"Linux {tag}".encode(),
        ]
        if n:
            lines.append(b"from :%d" % (commit_mark_prev))
        lines += [b"D " + p.encode() for p in sorted(previous_corpus - set(files))]
        lines += [b"M 100644 :%d %s" % (m, p.encode()) for p, m in sorted(changed.items())]
        lines += [b"M 100644 :%d %s" % (m, p.encode()) for p, m in sorted(corpus_marks.items())]
        out.write(b"\n".join(lines) + b"\n\n")
        message = f"Linux {tag}".encode()
        out.write(
            b"tag %s\nfrom :%d\ntagger kernel-sized <ks@localhost> %d +0000\ndata %d\n%s\n"
            % (tag.encode(), commit_mark, when, len(message), message)
        )
        previous_corpus = set(files)
        commit_mark_prev = commit_mark
    out.write(b"done\n")
    out.close()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import failed")
    (dest / "git-daemon-export-ok").touch()
    return KernelSized(
        path=dest,
        tags=tuple(tags),
        files=n_files,
        directories=dirs,
        seconds=time.monotonic() - start,
    )


# -- loopback network helpers ----------------------------------------------------------------


class CountingProxy:
    """TCP proxy 127.0.0.1:port -> 127.0.0.1:target, counting connections and bytes.

    ``delay`` seconds are added before forwarding each chunk in either direction: with a
    request/response protocol that is one emulated round trip per turn.
    """

    def __init__(self, target_port: int, delay: float = 0.0) -> None:
        self.target_port = target_port
        self.delay = delay
        self.connections = 0
        self.bytes_down = 0  # server -> client
        self.bytes_up = 0
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}.git"

    def reset(self) -> None:
        with self._lock:
            self.connections = self.bytes_down = self.bytes_up = 0

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, up: bool) -> None:
        """Forward src -> dst; with ``delay``, each chunk leaves delay/2 after it arrived
        (latency, not a throughput cap: chunks in flight overlap)."""
        pending: queue.Queue[tuple[float, bytes] | None] = queue.Queue()
        writer = None
        if self.delay:
            writer = threading.Thread(target=self._send_later, args=(pending, dst), daemon=True)
            writer.start()
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self._lock:
                    if up:
                        self.bytes_up += len(data)
                    else:
                        self.bytes_down += len(data)
                if writer is None:
                    dst.sendall(data)
                else:
                    pending.put((time.monotonic() + self.delay / 2, data))
        except OSError:
            pass
        finally:
            if writer is not None:
                pending.put(None)
                writer.join()
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _send_later(pending: queue.Queue[tuple[float, bytes] | None], dst: socket.socket) -> None:
        while (item := pending.get()) is not None:
            due, data = item
            time.sleep(max(0.0, due - time.monotonic()))
            with contextlib.suppress(OSError):
                dst.sendall(data)

    def close(self) -> None:
        self._closed = True
        # shutdown wakes the blocked accept(); close() alone would leave the port listening
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()


class StallServer:
    """Accepts TCP connections on loopback and never sends a byte."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, name: str = "linux") -> str:
        return f"git://127.0.0.1:{self.port}/{name}.git"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._held.append(conn)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        for conn in self._held:
            conn.close()
