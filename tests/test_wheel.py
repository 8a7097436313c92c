"""The built wheel installs one top-level package, ``kvdiff``, and works from a fresh venv.

The wheel is built from a copy of the working tree's files (``git ls-files``), so stale build/
directories cannot leak into it, then installed with its dependencies (from the configured
package index) into a new virtualenv under tmp. Slow-ish (about 20 s) but part of every run:
the packaging is what ``pip install kvdiff`` users get.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Packaged data the commands read at run time (from the package's folders), one of each kind.
DATA = (
    "kvdiff/analyzers/analyze/rules/try_to_unmap_one.toml",
    "kvdiff/analyzers/present/i18n/en.toml",
    "kvdiff/analyzers/present/i18n/ko.toml",
    "kvdiff/analyzers/present/annotations/try_to_unmap_one.toml",
    "kvdiff/templates/index.html.j2",
    "kvdiff/templates/style.css",
    "kvdiff/__main__.py",
)


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, f"{args}: {proc.stderr[-2000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    files = _run("git", "ls-files", "-co", "--exclude-standard", cwd=ROOT).stdout.splitlines()
    for name in files:
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, src)
    (built,) = out.glob("kvdiff-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = tmp_path_factory.mktemp("venv") / "v"
    _run(sys.executable, "-m", "venv", env)
    _run(env / "bin" / "pip", "install", "-q", wheel)
    return env


def test_the_wheel_record_lists_only_kvdiff(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        (record,) = [n for n in z.namelist() if n.endswith(".dist-info/RECORD")]
        rows = z.read(record).decode().splitlines()
        names = set(z.namelist())
    top = {row.split(",")[0].split("/")[0] for row in rows}
    dist_info = record.split("/")[0]
    assert dist_info.startswith("kvdiff-") and dist_info.endswith(".dist-info")
    assert top == {"kvdiff", dist_info}, top
    for path in DATA:
        assert path in names, f"{path} is not in the wheel"
    # Every stage folder is a subpackage (discovered, not listed by hand).
    for stage in ("source", "parse", "analyze", "compare", "model", "present", "jobs"):
        assert f"kvdiff/analyzers/{stage}/__init__.py" in names
    assert "kvdiff/analyzers/present/site/build.py" in names


def test_the_installed_package_runs_from_a_fresh_venv(venv: Path, tmp_path: Path) -> None:
    site = next((venv / "lib").glob("python3*/site-packages"))
    ours = {p.name for p in site.iterdir() if p.name.startswith("kvdiff")}
    assert ours == {"kvdiff", next(n for n in ours if n.endswith(".dist-info"))}
    assert not (site / "cli").exists() and not (site / "analyzers").exists()
    assert not (site / "templates").exists()
    help_text = _run(venv / "bin" / "python", "-m", "kvdiff", "--help", cwd=tmp_path).stdout
    assert "history" in help_text and "report" in help_text
    version = _run(venv / "bin" / "kvdiff", "--version", cwd=tmp_path).stdout
    assert version.startswith("kvdiff, version ")
    # The reference model reads nothing but packaged code: a real command from the installed copy.
    matrix = _run(venv / "bin" / "kvdiff", "model", "--matrix", "--reference", cwd=tmp_path)
    assert "compaction-anon" in matrix.stdout


@pytest.mark.corpus
def test_the_installed_package_writes_a_site(
    venv: Path, tmp_path: Path, corpus_repo_args: list[str]
) -> None:
    """Templates, UI strings, rules and annotations come from the installed package data."""
    args = [*corpus_repo_args, "--offline", "--quiet", "--cache", tmp_path / "cache.git"]
    _run(venv / "bin" / "kvdiff", "report", "--out", tmp_path / "site", *args, cwd=tmp_path)
    index = (tmp_path / "site" / "index.html").read_text()
    assert "try_to_unmap_one" in index and (tmp_path / "site" / "style.css").is_file()
    # The derived model's helper table (model/helpers.toml) is package data too.
    model = _run(venv / "bin" / "kvdiff", "model", "v5.1", "--scenario", "compaction-anon", *args)
    assert "after:   0xeffffffffdb97400  migration(W, pfn 0x12345)" in model.stdout
    # Golden files are not packaged: outside a checkout, --expected names them.
    expected = ROOT / "fixtures" / "expected"
    check = _run(venv / "bin" / "kvdiff", "check", "--expected", expected, *args, cwd=tmp_path)
    assert "0 failure(s)" in check.stdout
