"""Universal Ctags as an independent oracle for kvdiff's function extraction.

For each C file, ctags (``--output-format=json --fields=+ne --kinds-C=f``) and
``extract.all_functions`` must list the same functions: the same names and the same end
lines. Start lines may differ by the lines of the return type (ctags gives the line of the
name, kvdiff the first line of the definition), so a start agrees when kvdiff's is not after
ctags' and the name is on ctags' line. ctags names a ``SYSCALL_DEFINEn(move_pages, …)``
definition after the macro; the syscall name is read from its pattern (the source line), the
same way for every such macro, and compared with kvdiff's.

Run as a script to print the figures for a set of trees:

    .venv/bin/python tests/ctags_oracle.py ../shared/kernel-corpus ../shared/kernel-wild
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from kvdiff.analyzers.parse.cparse import parse_c
from kvdiff.analyzers.parse.extract import all_functions

CTAGS_ARGS = ("--output-format=json", "--fields=+ne", "--kinds-C=f", "-o", "-")
_SYSCALL_MACRO = re.compile(r"\A(?:[A-Z0-9]+_)?SYSCALL(?:32)?_DEFINE\d+\Z")
_PATTERN_ARG = re.compile(r"\(\s*([A-Za-z_]\w*)")


def ctags_problem() -> str | None:
    """Why Universal Ctags cannot serve as the oracle here, or None."""
    exe = shutil.which("ctags")
    if exe is None:
        return "ctags is not installed (Debian: apt-get install universal-ctags)"
    out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    if "Universal Ctags" not in out:
        return f"{exe} is not Universal Ctags ({out.splitlines()[0] if out else 'no version'})"
    features = subprocess.run([exe, "--list-features"], capture_output=True, text=True).stdout
    if not re.search(r"^json\b", features, re.M):
        return f"{exe} was built without JSON output"
    return None


@dataclass(frozen=True)
class Tag:
    name: str
    line: int
    end: int


def ctags_functions(path: Path) -> list[Tag]:
    """ctags' function tags of ``path``; SYSCALL_DEFINEn tags under their syscall name."""
    out = subprocess.run(
        ["ctags", *CTAGS_ARGS, str(path)], capture_output=True, text=True, check=True
    ).stdout
    tags = []
    for line in out.splitlines():
        tag = json.loads(line)
        if tag.get("_type") != "tag" or tag.get("kind") != "function":
            continue
        name = tag["name"]
        if _SYSCALL_MACRO.match(name):
            arg = _PATTERN_ARG.search(tag.get("pattern", ""))
            name = arg.group(1) if arg else name
        tags.append(Tag(name, tag["line"], tag["end"]))
    return tags


@dataclass
class Comparison:
    files: int = 0
    ctags: int = 0  # functions ctags lists
    kvdiff: int = 0  # functions kvdiff lists
    agree: int = 0  # same name and end line (and a start that agrees)
    problems: list[str] = field(default_factory=list)


def compare_file(path: Path, into: Comparison) -> None:
    data = path.read_bytes()
    lines = data.split(b"\n")
    ours = all_functions(parse_c(data))
    tags = ctags_functions(path)
    into.files += 1
    into.ctags += len(tags)
    into.kvdiff += len(ours)
    by_key: dict[tuple[str, int], list] = {}
    for fn in ours:
        by_key.setdefault((fn.name, fn.end_line), []).append(fn)
    for tag in tags:
        matches = by_key.get((tag.name, tag.end), [])
        fn = next((f for f in matches if _start_agrees(f, tag, lines)), None)
        if fn is None:
            why = "start line differs" if matches else "kvdiff has no such definition"
            into.problems.append(f"{path}: ctags {tag.name} {tag.line}-{tag.end}: {why}")
            continue
        matches.remove(fn)
        into.agree += 1
    for (name, end), left in sorted(by_key.items()):
        for fn in left:
            into.problems.append(f"{path}: kvdiff {name} {fn.start_line}-{end}: not in ctags")


def _start_agrees(fn, tag: Tag, lines: list[bytes]) -> bool:
    if not fn.start_line <= tag.line <= fn.end_line:
        return False
    text = lines[tag.line - 1] if tag.line - 1 < len(lines) else b""
    return fn.name.encode() in text


def compare(paths: list[Path]) -> Comparison:
    result = Comparison()
    for path in paths:
        compare_file(path, result)
    return result


def c_files(*roots: Path) -> list[Path]:
    return [p for root in roots for p in sorted(root.rglob("*.c"))]


def main(argv: list[str]) -> int:
    problem = ctags_problem()
    if problem:
        print(f"ctags_oracle: {problem}", file=sys.stderr)
        return 2
    result = compare(c_files(*(Path(a) for a in argv)))
    print(
        f"files {result.files}; functions: ctags {result.ctags}, kvdiff {result.kvdiff}; "
        f"agree (name, end line, start) {result.agree} of {result.ctags}"
    )
    for line in result.problems:
        print(f"  {line}")
    return 0 if not result.problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
