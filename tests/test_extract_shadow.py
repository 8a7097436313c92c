"""``find_functions(parsed, name)`` makes the shadow copy (``recover.py``: a second parse) only
when a definition it alone holds could be ``name``: on every kernel .c file of the corpus and
the wild trees, for the names only the shadow defines, a spread of the others and a few the
file does not define (syscall aliases among them), it returns what filtering every
definition, shadow included, returns."""

from __future__ import annotations

from pathlib import Path

from kvdiff.analyzers.parse import extract, recover
from kvdiff.analyzers.parse.cparse import parse_c


def _facts(defs: list[extract.FunctionDef]) -> list[tuple]:
    return [
        (f.name, f.start_byte, f.end_byte, f.start_line, f.end_line, f.signature, f.text)
        + (f.aliases, f.recovered, f.errors, f.source)
        for f in defs
    ]


def test_the_shadow_is_skipped_only_when_it_adds_nothing(corpus: Path, wild: Path) -> None:
    files = sorted(p for root in (corpus, wild) for p in root.rglob("*.c"))
    extra = (
        "try_to_unmap_one",
        "no_such_function",
        "sys_move_pages",
        "compat_sys_move_pages",
        "sys_",
        "move_pages",
    )
    shadow_only = skipped = 0
    for path in files:
        parsed = parse_c(path.read_bytes())
        every = extract._definitions(parsed)
        shadow_only += sum(f.source is not None for f in every)
        own = sorted({f.name for f in every if f.source is None})
        names = {f.name for f in every if f.source is not None} | set(own[:: max(1, len(own) // 6)])
        for name in sorted(names | set(extra)):
            want = [f for f in every if f.name == name or name in f.aliases]
            extract._DEFINITIONS.clear()  # not the full list kept by the call above
            got = extract.find_functions(parsed, name)
            assert _facts(got) == _facts([extract._function_def(parsed, f) for f in want])
        recover._CACHE.clear()
        extract._DEFINITIONS.clear()
        extract.find_functions(parsed, "try_to_unmap_one")
        skipped += parsed.data not in recover._CACHE
    assert shadow_only > 10  # definitions only the shadow has are among those compared
    assert skipped > len(files) // 2  # and most files need no second parse for the target
