"""Shared fixtures: the real kernel corpus, stand-in upstreams, and a git daemon serving them.

Real-corpus tests skip with a visible reason when no corpus is found, and FAIL when
KVDIFF_CORPUS is set but unusable (CI sets it, so a broken corpus can never pass silently).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "fixtures"
TAGS = ("v2.6.7", "v2.6.35", "v5.1", "v5.10.37")
# What the stand-in upstreams hold (see make-upstreams in the corpus).
UPSTREAM_OF = {"v2.6.7": "history", "v2.6.35": "mainline", "v5.1": "mainline", "v5.10.37": "stable"}


def _corpus_problem(path: Path) -> str | None:
    if not path.is_dir():
        return f"{path} is not a directory"
    if not (path / "MANIFEST.tsv").is_file():
        return f"{path} has no MANIFEST.tsv"
    for tag in TAGS:
        if not (path / tag / "mm" / "rmap.c").is_file():
            return f"{path} has no {tag}/mm/rmap.c"
    if not os.access(path / "make-upstreams", os.X_OK):
        return f"{path}/make-upstreams is missing or not executable"
    return None


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The kernel corpus directory (GPL-2.0 test input, read in place, never copied)."""
    env = os.environ.get("KVDIFF_CORPUS")
    if env:
        path = Path(env)
        if not path.is_absolute():
            path = (Path.cwd() / path).resolve()
        problem = _corpus_problem(path)
        if problem:
            pytest.fail(f"KVDIFF_CORPUS is set but unusable: {problem}", pytrace=False)
        return path
    default = (REPO_ROOT.parent / "shared" / "kernel-corpus").resolve()
    if _corpus_problem(default) is None:
        return default
    pytest.skip("no kernel corpus: set KVDIFF_CORPUS or place it at ../shared/kernel-corpus")


@dataclass(frozen=True)
class Manifest:
    rows: dict[tuple[str, str], str]  # (tag, path) -> blob id

    def blob(self, tag: str, path: str) -> str:
        return self.rows[(tag, path)]


def _wild_problem(path: Path) -> str | None:
    if not (path / "MANIFEST.tsv").is_file():
        return f"{path} has no MANIFEST.tsv"
    if not list(path.glob("*/mm/rmap.c")):
        return f"{path} holds no <tree>/mm/rmap.c"
    return None


@pytest.fixture(scope="session")
def wild() -> Path:
    """The kernel-wild trees (real mm/rmap.c and friends from forks, GPL-2.0 test input read in
    place): KVDIFF_WILD, else beside the corpus. Skips when neither variable is set and none is
    found; FAILS when one is set (as in CI) and the trees are missing or unusable."""
    env = os.environ.get("KVDIFF_WILD")
    corpus_env = os.environ.get("KVDIFF_CORPUS")
    if env:
        path = Path(env)
    elif corpus_env:
        path = Path(corpus_env).parent / "kernel-wild"
    else:
        path = REPO_ROOT.parent / "shared" / "kernel-wild"
    path = (Path.cwd() / path).resolve() if not path.is_absolute() else path
    problem = _wild_problem(path) if path.is_dir() else f"{path} is not a directory"
    if problem is None:
        return path
    if env or corpus_env:
        pytest.fail(f"kernel-wild trees unusable: {problem} (set KVDIFF_WILD)", pytrace=False)
    pytest.skip(f"no kernel-wild trees: {problem}; set KVDIFF_WILD")


@pytest.fixture(scope="session")
def wild_repo(wild: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """wild.git built by the trees' make-upstream: one commit per tree, tagged by version
    (v2.6.18) and by a vendor-style name (wild/laitianli-2.6.18)."""
    dest = tmp_path_factory.mktemp("wild")
    subprocess.run(
        [str(wild / "make-upstream"), str(wild), str(dest)], check=True, capture_output=True
    )
    return dest / "wild.git"


@pytest.fixture(scope="session")
def manifest(corpus: Path) -> Manifest:
    rows = {}
    lines = (corpus / "MANIFEST.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    for line in lines[1:]:
        if not line.strip():
            continue
        rec = dict(zip(header, line.split("\t"), strict=False))
        rows[(rec["tag"], rec["path"])] = rec["blob_id"]
    return Manifest(rows)


@pytest.fixture(scope="session")
def upstream_repos(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """history.git, mainline.git and stable.git built from the corpus by its make-upstreams."""
    if shutil.which("git") is None:
        pytest.fail("git is not installed (the README's test command installs it)", pytrace=False)
    dest = tmp_path_factory.mktemp("upstreams")
    subprocess.run(
        [str(corpus / "make-upstreams"), str(corpus), str(dest)],
        check=True,
        capture_output=True,
    )
    return dest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GitDaemon:
    """``git daemon`` on 127.0.0.1 at an ephemeral port over a base directory.

    With ``filters`` (the default, as kernel.org) upload-pack allows object filters and wants
    by id; ``filters=False`` stands for a server that offers neither.
    """

    def __init__(self, base: Path, *, filters: bool = True, config: tuple[str, ...] = ()) -> None:
        self.base = base
        self.filters = filters
        self.config = config  # more upload-pack settings, "key=value"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> GitDaemon:
        # -c reaches the upload-pack children through GIT_CONFIG_PARAMETERS
        flag = "true" if self.filters else "false"
        self.proc = subprocess.Popen(
            [
                "git",
                "-c",
                f"uploadpack.allowFilter={flag}",
                "-c",
                f"uploadpack.allowAnySHA1InWant={flag}",
                *(arg for item in self.config for arg in ("-c", item)),
                "daemon",
                f"--base-path={self.base}",
                "--export-all",
                "--reuseaddr",
                "--listen=127.0.0.1",
                f"--port={self.port}",
                str(self.base),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("git daemon did not start listening within 10 s")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}.git"

    def upstream_args(self) -> list[str]:
        """``--upstream NAME=URL`` options for the three stand-in upstreams, in default order."""
        args = []
        for name in ("mainline", "stable", "history"):
            args += ["--upstream", f"{name}={self.url(name)}"]
        return args


@pytest.fixture(scope="session")
def git_daemon(upstream_repos: Path) -> Iterator[GitDaemon]:
    daemon = GitDaemon(upstream_repos).start()
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="session")
def corpus_repo_args(upstream_repos: Path) -> list[str]:
    """``--repo`` options that read the stand-in upstreams as local clones (no network)."""
    return [
        "--repo",
        str(upstream_repos / "stable.git"),
        "--repo",
        str(upstream_repos / "history.git"),
    ]
