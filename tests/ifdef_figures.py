"""How many real functions need the per-configuration parse (parse/configs.py), and how many
ERROR/MISSING spans it leaves, over every .c file under the given trees:

    .venv/bin/python tests/ifdef_figures.py ../shared/kernel-corpus ../shared/kernel-wild
"""

from __future__ import annotations

import sys
from pathlib import Path

from kvdiff.analyzers.parse.branches import build_tree
from kvdiff.analyzers.parse.cparse import parse_c
from kvdiff.analyzers.parse.extract import all_functions


def main(argv: list[str]) -> int:
    total = broken = resolved = before = after = 0
    names = []
    for path in (p for root in argv for p in sorted(Path(root).rglob("*.c"))):
        parsed = parse_c(path.read_bytes())
        for fn in all_functions(parsed):
            total += 1
            if not (fn.has_errors or fn.recovered):
                continue
            broken += 1
            tree = build_tree(parsed, fn)
            if tree.resolved:
                resolved += 1
                before, after = before + len(fn.errors), after + len(tree.errors)
                names.append(f"{path}: {fn.name} ({', '.join(tree.resolved)})")
    print(
        f"functions {total}; with parse errors or recovered {broken}; parsed per configuration "
        f"{resolved}; their ERROR/MISSING spans {before} -> {after}"
    )
    print("\n".join(f"  {n}" for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
