"""Where a function with no rule set of its own is defined at a tag.

Looked for, in order: in the files of the rule sets that name it (as the target of a ``moved``
concept, or anywhere in their predicates), then in the other C files of those files'
directories; only then is it an error, which says where kvdiff looked.
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from collections.abc import Callable, Iterator

from kvdiff.analyzers.errors import KvdiffError, MissingFile
from kvdiff.analyzers.parse.cparse import parse_c
from kvdiff.analyzers.parse.extract import find_functions

from .ruleset import available_rule_sets, rules_dir


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def naming_rule_sets(function: str) -> list[tuple[str, str]]:
    """(file, rule set) of every packaged rule set that names ``function``, in name order."""
    out = []
    for target in available_rule_sets():
        raw = tomllib.loads((rules_dir() / f"{target}.toml").read_text(encoding="utf-8"))
        path = str(raw.get("meta", {}).get("path", ""))
        named = any(s == function for s in _strings({k: v for k, v in raw.items() if k != "meta"}))
        if path and named:
            out.append((path, target))
    return out


def _defines(data: bytes, function: str) -> bool:
    if not re.search(rb"\b" + re.escape(function.encode()) + rb"\s*\(", data):
        return False  # cheap test first: most files of a directory never mention it
    return bool(find_functions(parse_c(data), function))


def locate_function(
    function: str,
    tag: str,
    read: Callable[[str], bytes],
    list_dir: Callable[[str], list[str]],
) -> str:
    """The file that defines ``function`` at ``tag`` (see the module docstring)."""
    named = naming_rule_sets(function)
    if not named:
        raise KvdiffError(
            f"no rule set names {function}, so kvdiff does not know its file; "
            "pass --file PATH (e.g. --file mm/memory.c) or --rules FILE"
        )
    tried: list[str] = []
    candidates = list(dict.fromkeys(p for p, _ in named))
    for folder in dict.fromkeys(posixpath.dirname(p) for p, _ in named):
        candidates += [posixpath.join(folder, n) for n in list_dir(folder) if n.endswith(".c")]
    for path in dict.fromkeys(candidates):
        try:
            data = read(path)
        except (MissingFile, FileNotFoundError):
            continue
        tried.append(path)
        if _defines(data, function):
            return path
    sets = ", ".join(f"{t} ({p})" for p, t in named)
    folders = ", ".join(dict.fromkeys(posixpath.dirname(p) + "/" for p, _ in named))
    raise KvdiffError(
        f"{function} is not defined at {tag} in the file of the rule sets that name it ({sets}) "
        f"nor in the other {len(tried) - len(named)} C files of {folders}; "
        "pass --file PATH (e.g. --file include/linux/swapops.h)"
    )
