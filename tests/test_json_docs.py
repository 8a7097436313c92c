"""Every command's ``--json`` keys against the README's "JSON outputs" tables, both ways.

The README section is parsed (one table per command; backticked field paths in the first column,
see its preamble for the notation). Each command is run on the real corpus, its document walked
into the same paths, and: every field it prints must be documented, and every documented field
not marked *only when* must be printed. ``schema_version`` is 1 everywhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from kvdiff.main import cli

README = Path(__file__).resolve().parent.parent / "README.md"
_SECTION = re.compile(r"<!-- section: json \(issue 14\) -->(.*?)<!-- /section: json -->", re.S)
_HEADING = re.compile(r"^### `kvdiff (.+?) --json`$")


@dataclass
class Schema:
    paths: set[str] = field(default_factory=set)
    optional: set[str] = field(default_factory=set)
    recursive: set[str] = field(default_factory=set)

    @property
    def mappings(self) -> set[str]:
        return {p[:-2] for p in self.paths if p.endswith("{}")} | {
            p.split("{}")[0] for p in self.paths if "{}." in p
        }


def documented() -> dict[str, Schema]:
    """Command (``show``, ``model --matrix``…) -> its documented field paths."""
    match = _SECTION.search(README.read_text(encoding="utf-8"))
    assert match, "README has no '<!-- section: json (issue 14) -->' section"
    schemas: dict[str, Schema] = {}
    current: Schema | None = None
    for line in match.group(1).splitlines():
        heading = _HEADING.match(line)
        if heading:
            current = schemas.setdefault(heading.group(1), Schema())
        elif line.startswith("| `") and current is not None:
            first, meaning = line[1:].split(" | ", 1)
            paths = re.findall(r"`([^`]+)`", first)
            current.paths.update(paths)
            if "only when" in meaning:
                current.optional.update(paths)
            if "(recursive)" in meaning:
                current.recursive.update(p.removesuffix("[]") for p in paths)
    return schemas


def actual_paths(doc: object, schema: Schema) -> set[str]:
    """The field paths of ``doc`` in the README's notation; a documented ``a{}`` mapping's keys
    are data, a documented recursive list maps back onto its parent's fields."""
    out: set[str] = set()
    mappings = schema.mappings

    def walk(value: object, path: str) -> None:
        if isinstance(value, dict):
            if path in mappings:
                out.add(path + "{}")
                for item in value.values():
                    walk(item, path + "{}")
                return
            for key, item in value.items():
                walk_field(item, f"{path}.{key}" if path else key, path)
        elif isinstance(value, list):
            for item in value:
                walk(item, path)

    def walk_field(value: object, path: str, parent: str) -> None:
        objects = isinstance(value, list) and (
            any(isinstance(i, dict) for i in value) or (not value and path + "[]" in schema.paths)
        )
        if not objects:
            out.add(path + "{}" if path in mappings else path)
            if path in mappings or isinstance(value, dict):
                walk(value, path)
            return
        out.add(path + "[]")
        walk(value, parent if path in schema.recursive else path + "[]")

    walk(doc, "")
    return out


def _json(args: list[str]) -> dict:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def outputs(corpus_repo_args: list[str], git_daemon, tmp_path_factory) -> dict[str, list[dict]]:
    """Each documented command's JSON on the corpus (several runs where one cannot show all)."""
    tmp = tmp_path_factory.mktemp("json")
    src = [*corpus_repo_args, "--offline", "--quiet", "--cache", str(tmp / "c.git")]
    expected = str(Path(__file__).resolve().parent.parent / "fixtures" / "expected")
    net = ["--quiet", "--cache", str(tmp / "net.git"), *git_daemon.upstream_args()]
    return {
        "show": [_json(["show", tag, "--json", *src]) for tag in ("v2.6.7", "v5.10.37")],
        "branches": [_json(["branches", tag, "--json", *src]) for tag in ("v2.6.7", "v5.1")],
        "check": [_json(["check", "--json", "--expected", expected, *src])],
        "model": [
            _json(["model", "v5.1", "--scenario", s, "--json", *src])
            for s in ("compaction-anon", "reclaim-file")
        ],
        "model --matrix": [_json(["model", "--matrix", "--json", *src])],
        "history": [_json(["history", "--json", *src])],
        "diff": [_json(["diff", "v2.6.35", "v5.1", "--json", *src])],
        "fetch": [_json(["fetch", "v2.6.7", "v5.1", "--json", *net])],
        "report": [_json(["report", "--json", "--history", "--out", str(tmp / "site"), *src])],
    }


def test_the_readme_documents_every_json_command() -> None:
    assert set(documented()) == {
        "show",
        "branches",
        "check",
        "model",
        "model --matrix",
        "history",
        "diff",
        "fetch",
        "report",
    }


@pytest.mark.parametrize(
    "command",
    ["show", "branches", "check", "model", "model --matrix", "history", "diff", "fetch", "report"],
)
def test_json_keys_match_the_readme(command: str, outputs: dict[str, list[dict]]) -> None:
    schema = documented()[command]
    seen: set[str] = set()
    for doc in outputs[command]:
        assert doc["schema_version"] == 1
        seen |= actual_paths(doc, schema)
    undocumented = sorted(seen - schema.paths)
    assert not undocumented, f"kvdiff {command} --json prints fields the README lacks"
    missing = sorted(schema.paths - schema.optional - seen)
    assert not missing, f"the README documents fields kvdiff {command} --json does not print"


def test_the_walker_follows_the_notation() -> None:
    """The path notation itself: lists of objects, data-keyed mappings, recursion, nulls."""
    schema = Schema(
        paths={"a{}", "a{}.x", "t", "t.kids[]", "t.kind", "n", "e[]", "s"},
        recursive={"t.kids"},
    )
    doc = {
        "a": {"k1": {"x": 1}, "k2": {"x": 2}},
        "t": {"kind": "f", "kids": [{"kind": "if", "kids": []}]},
        "n": None,
        "e": [],
        "s": [1, 2],
    }
    assert actual_paths(doc, schema) == {"a{}", "a{}.x", "t", "t.kids[]", "t.kind", "n", "e[]", "s"}
