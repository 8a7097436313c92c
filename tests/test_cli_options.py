"""The terminal's common ground: usage errors, ``--tags``, FUNCTION as an argument, the pager,
shell completion, the man pages and the progress line (issue 14, "The terminal")."""

from __future__ import annotations

import fcntl
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.source import progress
from kvdiff.analyzers.versions import expand_tags, select_tags
from kvdiff.completion import complete_scenario, complete_tag, complete_tag_list
from kvdiff.main import cli
from kvdiff.manpage import write_manpages

ROOT = Path(__file__).resolve().parent.parent


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def src(corpus_repo_args: list[str], tmp_path: Path) -> list[str]:
    return [*corpus_repo_args, "--offline", "--quiet", "--cache", str(tmp_path / "c.git")]


# -- usage errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "command", "what"),
    [
        (["show"], "kvdiff show", "missing argument 'TAG'"),
        (["diff", "v5.1"], "kvdiff diff", "missing argument 'B'"),
        (["show", "v5.1", "--jsn"], "kvdiff show", "no such option --jsn (did you mean --json?)"),
        (["history", "--file"], "kvdiff history", "option '--file' requires an argument"),
        (["diff", "a", "b", "--color=x"], "kvdiff diff", "invalid value for '--color'"),
        (["branches", "v5.1", "--definition", "0"], "kvdiff branches", "0 is not in the range"),
        (["show", "a", "b", "c"], "kvdiff show", "got unexpected extra argument (c)"),
        (["shw"], "kvdiff", "no such command 'shw'"),
        (["--bogus"], "kvdiff", "no such option --bogus"),
        (["fetch"], "kvdiff fetch", "give at least one TAG (or --repair)"),
        (["model", "--timeout", "-1"], "kvdiff model", "-1.0 is not in the range x>0"),
    ],
)
def test_usage_errors_are_one_kvdiff_error_line(args: list[str], command: str, what: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    line = result.stderr.rstrip("\n")
    assert line.startswith(f"kvdiff: error: {command}: "), line
    assert what in line
    assert line.endswith(f"; run `{command} --help` for its usage")
    assert "Usage:" not in line and "Traceback" not in line and "Try '" not in line


def test_usage_error_from_the_installed_program() -> None:
    """The real entry point (not the test runner) prints the same single line."""
    proc = subprocess.run(
        [sys.executable, "-m", "kvdiff", "diff", "v5.1", "--side-by-sid"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (
        "kvdiff: error: kvdiff diff: no such option --side-by-sid (did you mean "
        "--side-by-side?); run `kvdiff diff --help` for its usage\n"
    )


def test_bare_kvdiff_still_prints_the_help() -> None:
    result = invoke()
    assert "Commands:" in result.output and "kvdiff: error" not in result.output


# -- --tags -------------------------------------------------------------------------------------


def test_expand_tags_keeps_order_expands_globs_and_names_what_matched_nothing() -> None:
    known = ["v5.10.37", "v2.6.7", "v5.1", "v5.10.4", "v2.6.35"]
    calls = []

    def pool() -> list[str]:
        calls.append(1)
        return known

    assert expand_tags(("v5.1", "v2.6.7"), pool) == ("v5.1", "v2.6.7")
    assert calls == []  # no glob: the known tags are not even listed (no network for fetch)
    assert expand_tags(("v2.6.7", "v5.10.*", "v5.1*"), pool) == (
        "v2.6.7",
        "v5.10.4",
        "v5.10.37",
        "v5.1",
    )
    with pytest.raises(KvdiffError) as err:
        expand_tags(("v5.1", "v6.*"), pool, "tags in the cache")
    assert "--tags 'v6.*' matches no tags among the 5 tags in the cache" in err.value.message
    assert "closest: v5.1, v5.10.4, v5.10.37" in err.value.message


def test_select_tags_takes_a_comma_list_of_tags_and_globs() -> None:
    tags = ["v2.6.7", "v2.6.35", "v5.1", "v5.10.37", "v5.10.4"]
    assert select_tags(tags, "v5.1,v5.10.37") == ["v5.1", "v5.10.37"]
    assert select_tags(tags, ("v2.6.*", "v5.10.4")) == ["v2.6.7", "v2.6.35", "v5.10.4"]
    with pytest.raises(KvdiffError, match=r"--tags 'v4\.\*' matches no tags"):
        select_tags(tags, "v5.1,v4.*", where="tags here")


def test_history_tags_is_a_comma_list_with_globs(src: list[str]) -> None:
    listed = json.loads(invoke("history", "--tags", "v5.1,v5.10.37", "--json", *src).stdout)
    assert [v["first_tag"] for v in listed["versions"]] == ["v5.1", "v5.10.37"]
    globbed = json.loads(invoke("history", "--tags", "v5.*", "--json", *src).stdout)
    assert globbed["versions"] == listed["versions"]
    both = json.loads(
        invoke("history", "--tags", "v2.6.7", "--tags", "v5.1*", "--json", *src).stdout
    )
    assert [v["first_tag"] for v in both["versions"]] == ["v2.6.7", "v5.1", "v5.10.37"]
    nothing = invoke("history", "--tags", "v5.1,v6.*", *src)
    assert nothing.exit_code == 2 and nothing.stderr.count("\n") == 1
    assert "--tags 'v6.*' matches no tags among the 4 tags in the cache" in nothing.stderr
    ranged = invoke("history", "--tags", "v5.*", "--range", "..v2.6.35", *src)
    assert ranged.exit_code == 2 and "--range ..v2.6.35 matches none of the 4 tags" in ranged.stderr


def test_tags_globs_in_report_check_and_model_matrix(src: list[str], tmp_path: Path) -> None:
    report = json.loads(
        invoke("report", "--tags", "v5.*", "--json", "--out", str(tmp_path / "s"), *src).stdout
    )
    assert [t["tag"] for t in report["tags"]] == ["v5.1", "v5.10.37"]
    expected = str(ROOT / "fixtures" / "expected")
    check = json.loads(
        invoke("check", "--tags", "v2.6.*", "--expected", expected, "--json", *src).stdout
    )
    assert [t["tag"] for t in check["tags"]] == ["v2.6.7", "v2.6.35"]
    matrix = json.loads(invoke("model", "--matrix", "--tags", "v5.10.*", "--json", *src).stdout)
    assert {o["tag"] for o in matrix["outcomes"]} == {"v5.10.37"}
    bad = invoke("model", "--matrix", "--tags", "v9.*", *src)
    assert bad.exit_code == 2 and "--tags 'v9.*' matches no tags" in bad.stderr


def test_fetch_expands_a_glob_over_the_upstream_listings(git_daemon, tmp_path: Path) -> None:
    args = ["fetch", "v2.6.*", "--json", "--quiet", "--cache", str(tmp_path / "c.git")]
    doc = json.loads(invoke(*args, *git_daemon.upstream_args()).stdout)
    assert [t["tag"] for t in doc["tags"]] == ["v2.6.7", "v2.6.35"]
    assert all(t["fetched"] for t in doc["tags"])
    assert doc["fetches"] and all(f["bytes"] > 0 for f in doc["fetches"])


# -- FUNCTION is an argument --------------------------------------------------------------------


def test_report_and_check_take_function_as_an_argument(src: list[str], tmp_path: Path) -> None:
    base = ["--file", "mm/memory.c", "--tags", "v5.1,v5.10.37", "--json", *src]
    new = json.loads(invoke("report", "do_swap_page", *base, "--out", str(tmp_path / "a")).stdout)
    old = invoke("report", "--function", "do_swap_page", *base, "--out", str(tmp_path / "b"))
    assert new["function"] == "do_swap_page" and new["path"] == "mm/memory.c"
    assert old.exit_code == 0 and old.stderr == ""  # the old spelling still works, hidden
    old_doc = json.loads(old.stdout)
    assert {k: v for k, v in old_doc.items() if k not in ("out", "index")} == {
        k: v for k, v in new.items() if k not in ("out", "index")
    }
    clash = invoke("report", "do_swap_page", "--function", "try_to_unmap_one", *src)
    assert clash.exit_code == 2 and "disagree" in clash.stderr
    assert "--function" not in invoke("report", "--help").output
    expected = ["--expected", str(ROOT / "fixtures" / "expected"), "--json", *src]
    by_argument = invoke("check", "do_swap_page", *expected)
    by_option = invoke("check", "--target", "do_swap_page", *expected)
    assert by_argument.exit_code == 0 and json.loads(by_argument.stdout)["target"] == "do_swap_page"
    assert by_option.stdout == by_argument.stdout


# -- the pager ----------------------------------------------------------------------------------


_PAGER = """import os, sys
data = sys.stdin.buffer.read()
with open(sys.argv[1], "wb") as f:
    f.write(("LESS=%s\\n" % os.environ.get("LESS")).encode() + data)
"""


# The pager's settings come from each test, never from the environment running the tests.
_BASE_ENV = {
    k: v for k, v in os.environ.items() if k not in ("LESS", "PAGER", "KVDIFF_PAGER", "NO_COLOR")
}


def _on_a_terminal(args: list[str], env: dict[str, str], rows: int = 24) -> str:
    """Run kvdiff with stdin, stdout and stderr on a pseudo-terminal; what it drew there."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "kvdiff", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**_BASE_ENV, "TERM": "xterm", **env},
    )
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=120)
    os.close(master)
    assert proc.returncode == 0, out
    return out.decode("utf-8", "replace").replace("\r\n", "\n")


@pytest.mark.parametrize("command", [["show", "v5.1"], ["diff", "v2.6.35", "v5.1"]])
def test_long_output_on_a_terminal_goes_through_the_pager(
    command: list[str], src: list[str], tmp_path: Path
) -> None:
    script = tmp_path / "pager.py"
    script.write_text(_PAGER)
    paged = tmp_path / "paged.txt"
    plain = invoke(*command, *src).stdout  # a pipe: never paged
    env = {"KVDIFF_PAGER": f"{sys.executable} {script} {paged}", "PAGER": "false", "NO_COLOR": "1"}
    shown = _on_a_terminal([*command, *src], env)
    assert paged.read_text() == "LESS=FRX\n" + plain  # LESS=FRX unless the user set LESS
    assert shown == ""  # everything went to the pager
    paged.unlink()
    direct = _on_a_terminal([*command, *src, "--no-pager"], env)
    assert not paged.exists() and direct == plain
    for no_pager in ({"KVDIFF_PAGER": "cat"}, {"KVDIFF_PAGER": ""}):
        assert _on_a_terminal([*command, *src], {**env, **no_pager}) == plain
    assert not paged.exists()


def test_pager_honours_pager_and_the_users_less(src: list[str], tmp_path: Path) -> None:
    script = tmp_path / "pager.py"
    script.write_text(_PAGER)
    paged = tmp_path / "paged.txt"
    env = {"PAGER": f"{sys.executable} {script} {paged}", "LESS": "-S"}
    shown = _on_a_terminal(["history", *src], env, rows=5)
    assert shown == ""
    text = paged.read_text()
    assert text.startswith("LESS=-S\ntry_to_unmap_one in mm/rmap.c: 4 tags, 4 entries")
    # Output that fits the screen is printed directly, as less -F would.
    paged.unlink()
    short = _on_a_terminal(["history", "--tags", "v5.1", *src], env, rows=24)
    assert short.startswith("try_to_unmap_one in mm/rmap.c: 1 tag") and not paged.exists()


# -- shell completion ---------------------------------------------------------------------------


def _ctx(**params: object) -> click.Context:
    ctx = click.Context(click.Command("x"))
    ctx.params.update(params)
    return ctx


def test_tag_completion_reads_the_cache_and_repos(corpus_repo_args: list[str], tmp_path) -> None:
    repos = tuple(corpus_repo_args[1::2])
    ctx = _ctx(cache=str(tmp_path / "none.git"), repos=repos)
    values = [i.value for i in complete_tag(ctx, None, "v5.1")]
    assert values == ["v5.1", "v5.10.37"]
    assert [i.value for i in complete_tag(ctx, None, "")] == [
        "v2.6.7",
        "v2.6.35",
        "v5.1",
        "v5.10.37",
    ]
    listed = [i.value for i in complete_tag_list(ctx, None, "v5.1,v")]
    assert listed == ["v5.1,v2.6.7", "v5.1,v2.6.35", "v5.1,v5.10.37"]  # v5.1 is given already
    # An unusable cache completes nothing, without an error.
    (tmp_path / "file").write_text("not a repository")
    assert complete_tag(_ctx(cache=str(tmp_path / "file"), repos=()), None, "v") == []


def test_scenario_completion() -> None:
    values = [i.value for i in complete_scenario(_ctx(), None, "reclaim-")]
    assert values == ["reclaim-anon-swapcache", "reclaim-file", "reclaim-mlocked", "reclaim-young"]


def test_completion_through_the_shell_protocol(corpus_repo_args: list[str], tmp_path) -> None:
    """What bash gets from ``_KVDIFF_COMPLETE=bash_complete``: tags after --repo, scenarios."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KVDIFF", "XDG"))}
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")

    def complete(words: str) -> list[str]:
        env.update(_KVDIFF_COMPLETE="bash_complete", COMP_WORDS=words)
        env["COMP_CWORD"] = str(len(words.split()) - (0 if words.endswith(" ") else 1))
        proc = subprocess.run(
            [sys.executable, "-m", "kvdiff"], env=env, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.splitlines()

    repo = corpus_repo_args[1]
    assert complete(f"kvdiff show --repo {repo} v5") == ["plain,v5.1", "plain,v5.10.37"]
    assert complete("kvdiff model v5.1 --scenario mig") == [
        "plain,migrate-anon-swapcache",
        "plain,migrate-file",
    ]
    env["_KVDIFF_COMPLETE"] = "bash_source"
    source = subprocess.run(
        [sys.executable, "-m", "kvdiff"], env=env, capture_output=True, text=True, timeout=60
    )
    assert "_kvdiff_completion" in source.stdout and "complete " in source.stdout


# -- man pages ----------------------------------------------------------------------------------


def test_man_pages_cover_every_command_and_option(tmp_path: Path) -> None:
    written = write_manpages(tmp_path / "a")
    names = {p.name for p in written}
    ctx = click.Context(cli, info_name="kvdiff")
    commands = cli.list_commands(ctx)
    assert names == {"kvdiff.1", *(f"kvdiff-{c}.1" for c in commands)}
    program = (tmp_path / "a" / "kvdiff.1").read_text()
    for name in commands:
        assert f".B kvdiff {name}\n" in program
        page = (tmp_path / "a" / f"kvdiff-{name}.1").read_text()
        assert page.startswith(f'.TH "KVDIFF-{name.upper()}" 1 ')
        command = cli.get_command(ctx, name)
        for param in command.params:
            if isinstance(param, click.Option):
                for opt in param.opts:
                    mark = opt.replace("-", "\\-")
                    assert (mark in page) != param.hidden, (name, opt)
        assert all(not line.startswith(("'", "..")) for line in page.splitlines())
    # Deterministic: the same commands give the same bytes.
    again = write_manpages(tmp_path / "b")
    assert [p.read_bytes() for p in written] == [p.read_bytes() for p in again]
    if shutil.which("groff"):  # the Debian package man-db brings it; warnings are roff errors
        check = subprocess.run(
            ["groff", "-man", "-Tutf8", "-ww", "-z", *map(str, written)],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0 and check.stderr == ""


# -- the progress line --------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_other_lines_clear_the_progress_line_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    term = _Terminal()
    bar = progress.PhaseProgress("trees (partial): 50 tag(s) from mainline", True, term)
    bar(12, 2048)
    progress.note("upstream mainline offers no fetch filters", term)
    bar(13, 4096)
    bar.finish()
    progress.warn("something", term)
    out = term.getvalue()
    drawn = [part for part in out.split("\r") if part.endswith("\x1b[K") and part != "\x1b[K"]
    assert drawn and all(len(part) - 3 < 40 for part in drawn)  # cut to the width, never wraps
    assert "\r\x1b[Kkvdiff: upstream mainline offers no fetch filters\n\r" in out
    assert out.endswith("\r\x1b[Kkvdiff: warning: something\n")  # finished: not redrawn
    # What stays on the screen (text after the last carriage return of each line): whole lines.
    screen = [line.split("\r")[-1].replace("\x1b[K", "") for line in out.split("\n")]
    assert screen == [
        "kvdiff: upstream mainline offers no fetch filters",
        "kvdiff: warning: something",
        "",
    ]


def test_history_fetch_on_a_terminal_keeps_progress_and_lines_apart(tmp_path: Path, upstream_repos):
    """The stand-in upstreams without fetch filters: each upstream's fallback note is printed
    while the progress line is on screen; it must start on a cleared line."""
    from conftest import GitDaemon

    daemon = GitDaemon(upstream_repos, filters=False).start()
    try:
        args = ["history", "--fetch", "--cache", str(tmp_path / "c.git"), *daemon.upstream_args()]
        raw = _on_a_terminal(args, {"NO_COLOR": "1"})
    finally:
        daemon.stop()
    notes = [i for i in range(len(raw)) if raw.startswith("kvdiff: upstream", i)]
    assert len(notes) == 3, raw
    for i in notes:
        assert raw[:i].endswith("\r\x1b[K") or raw[:i].endswith("\n"), raw[max(0, i - 80) : i]
    visible = [line.split("\r")[-1] for line in raw.split("\n")]
    assert any(v.startswith("try_to_unmap_one in mm/rmap.c: 4 tags") for v in visible)
    assert all("objects" not in v for v in visible if v.startswith(("#", "try_to")))
