"""Build small bare git repositories from our own synthetic C at test time, and run the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pygit2
from click.testing import CliRunner, Result
from kvdiff.main import cli

SIMPLE_C = b"""/* synthetic: not kernel code */
static int helper(int x)
{
\treturn x + 1;
}

int target_fn(int a, int b)
{
\tint ret = 0;
\tif (a > b)
\t\tret = helper(a);
\telse if (b > 10)
\t\tret = -1;
\treturn ret;
}
"""


def make_repo(path: Path, tags: Mapping[str, Mapping[str, bytes]]) -> Path:
    """A bare repository at ``path`` with one commit per tag (in order) holding ``files``
    (repo path -> bytes), each tagged with an annotated tag."""
    repo = pygit2.init_repository(str(path), bare=True)
    sig = pygit2.Signature("kvdiff tests", "tests@example.invalid", 0, 0)
    parents: list[pygit2.Oid] = []
    for tag, files in tags.items():
        tree = _tree(repo, {name: data for name, data in files.items()})
        commit = repo.create_commit(None, sig, sig, tag, tree, parents)
        repo.create_tag(tag, commit, pygit2.enums.ObjectType.COMMIT, sig, tag)
        parents = [commit]
    return path


def _tree(repo: pygit2.Repository, files: Mapping[str, bytes]) -> pygit2.Oid:
    builder = repo.TreeBuilder()
    folders: dict[str, dict[str, bytes]] = {}
    for name, data in files.items():
        head, sep, rest = name.partition("/")
        if sep:
            folders.setdefault(head, {})[rest] = data
        else:
            builder.insert(head, repo.create_blob(data), pygit2.enums.FileMode.BLOB)
    for head, sub in folders.items():
        builder.insert(head, _tree(repo, sub), pygit2.enums.FileMode.TREE)
    return builder.write()


def run(*args: str) -> Result:
    """``kvdiff ARGS`` through click's CliRunner (stderr kept apart from stdout)."""
    return CliRunner().invoke(cli, list(args))


def one_error_line(result: Result) -> str:
    """The single ``kvdiff: error:`` line of a failed run (asserts there is exactly one line and
    no traceback)."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kvdiff: error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]
