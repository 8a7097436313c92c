"""The sentences ``kvdiff check`` reports its findings with, worded from their facts.

:mod:`kvdiff.analyzers.compare.check` and :mod:`~kvdiff.analyzers.compare.rulecheck` say what
differs (a finding's kind, ``reason`` and facts); this module says it in words, one function per
reason, for the text, JSON and JUnit forms alike.
"""

from __future__ import annotations

from collections.abc import Callable

from kvdiff.analyzers.analyze.expectations import Epoch
from kvdiff.analyzers.compare.check import Finding


def _parse_errors(f: Finding) -> str:
    errors = f.fact("errors", ())
    return f" (the function has parse errors at lines {', '.join(errors)})" if errors else ""


def _note(f: Finding, fmt: str) -> str:
    return fmt.format(f.fact("note")) if f.fact("note") else ""


def _want(f: Finding) -> str:
    """What the rules' history expects, with the change it comes from."""
    e: Epoch = f.fact("expectation")
    where = f" in {e.function}()" if e.state == "moved" else ""
    return f"{e.state}{where} {e.cite(f.fact('version'))}"


def _hits(f: Finding) -> str:
    return ", ".join(
        f"{function} {start}-{end} {condition or 'else'!r}"
        for function, start, end, condition in f.fact("hits", ())
    )


def _drift(f: Finding) -> str:
    return "; ".join(
        f"{was} -> {now}" if was else f"condition whitespace changed at {now}"
        for was, now in f.fact("drift", ())
    )


def _misplaced(f: Finding) -> str:
    _, start, end, condition = f.fact("hit")
    e: Epoch = f.fact("expectation")
    cite = e.cite(f.fact("version"))
    if f.fact("inside_of"):
        return (
            f"{start}-{end} {condition!r} sits inside the {f.fact('inside_of')} arm, but the "
            f"rules place it outside {', '.join(e.outside)} {cite}"
        )
    return (
        f"{start}-{end} {condition!r} is not inside the {f.fact('outside_of')} arm, "
        f"as the rules require {cite}"
    )


_WORDS: dict[str, Callable[[Finding], str]] = {
    "": lambda f: "",
    "function-missing": lambda f: f.fact("why") or "function not found",
    "not-in-golden": lambda f: (
        "the rules know this concept but the golden file does not; "
        "run kvdiff check --update and review the result"
    ),
    "not-in-rules": lambda f: "the golden file has this concept but the rules do not",
    "parse-error": lambda f: (
        f"expected at {f.fact('span')} ({f.fact('condition')!r}) but not found; tree-sitter "
        f"could not parse lines {', '.join(f.fact('errors'))} of {f.fact('function')}"
    ),
    "golden-missing": lambda f: (
        f"expected {f.fact('expected')} at {f.fact('span')} ({f.fact('condition')!r}), "
        f"now {f.fact('state')}{_note(f, ': {}')}"
    ),
    "golden-unexpected": lambda f: (
        f"present where expected {f.fact('expected')}: {f.fact('condition')!r} at "
        f"{f.fact('span')} in {f.fact('function')}"
    ),
    "rules-missing": lambda f: (
        f"absent, and the rules do not declare it absent at this tag{_note(f, ': {}')}; "
        "fix the rule or declare the absence in its history"
    ),
    "rules-unexpected": lambda f: (
        f"present where the rules declare it absent: {f.fact('condition')!r} at "
        f"{f.fact('span')} in {f.fact('function')}; fix the rule or its history"
    ),
    "state-moved": lambda f: (
        f"was {f.fact('expected')} in {f.fact('was')}, now {f.fact('state')} in {f.fact('now')}"
    ),
    "state-changed": lambda f: f"was {f.change.before[0]}, now {f.change.after[0]}",
    "hits-changed": lambda f: (
        f"{len(f.fact('expected_spans'))} hit(s) expected ({', '.join(f.fact('expected_spans'))}), "
        f"found {len(f.fact('spans'))} ({', '.join(f.fact('spans'))}){_parse_errors(f)}"
    ),
    "function-moved": lambda f: f"was in {f.fact('was')}, now in {f.fact('now')}",
    "condition-changed": lambda f: (
        f"condition at {f.fact('span')} is {f.change.after[0]!r}, expected "
        f"{f.change.before[0]!r}{_parse_errors(f)}"
    ),
    "line-drift": _drift,
    "version-unknown": lambda f: "no version to read the rules at",
    "tree-version-unknown": lambda f: (
        f"{f.tag} is not shaped like a version and its tree has no readable Makefile "
        "version (VERSION/PATCHLEVEL/SUBLEVEL); the rules' ranges cannot be applied"
    ),
    "history-unexpected": lambda f: f"found at {_hits(f)}, but the rules say {_want(f)}",
    "history-missing": lambda f: (
        f"not found{_note(f, ' ({})')}; the rules say {_want(f)}"
        + (
            f"; tree-sitter could not parse lines {', '.join(f.fact('errors'))} of "
            f"{f.fact('function')}"
            if f.fact("errors")
            else ""
        )
    ),
    "history-not-moved": lambda f: (
        f"found in {f.change.after[0]} at {_hits(f)}; the rules say {_want(f)}"
    ),
    "history-misplaced": _misplaced,
    "history-absent": lambda f: (
        f"absent as expected ({f.fact('expectation').cite(f.fact('version'))})"
    ),
    "history-found": _hits,
}


def finding_message(f: Finding) -> str:
    """The sentence for ``f`` ("" for a plain OK)."""
    return _WORDS[f.reason](f)
