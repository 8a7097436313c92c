"""What the site warns about: bidi controls in the shown code, functions defined several times."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kvdiff.analyzers.present.site.inputs import TagInput
from kvdiff.analyzers.present.site.strings import fmt
from kvdiff.analyzers.present.textsafety import bidi_lines, bidi_warning


def site_warnings(function: str, path: str, inputs: Sequence[TagInput]) -> tuple[str, ...]:
    """What ``kvdiff report`` tells stderr about the pages: which definition it shows of a
    function defined several times, and where bidi controls hide in the shown code."""
    out = []
    for inp in inputs:
        tag, span = inp.source.tag, inp.function_span()
        if span.definitions > 1:
            out.append(
                f"{function} is defined {span.definitions} times in {path} at {tag} (e.g. "
                f"#ifdef/#else arms); the site shows the first in file order, lines "
                f"{span.start_line}-{span.end_line} (kvdiff show prints them all)"
            )
        lines = bidi_lines(inp.source.data, span.start_line, span.end_line)
        warning = bidi_warning(f"{function} in {path} at {tag}", lines)
        if warning:
            out.append(warning)
    return tuple(out)


def safety_note(data: bytes, shown: set[int], strings: Mapping[str, str]) -> str:
    """The tag page's warning when a shown line holds a bidi control ("" otherwise)."""
    if not shown:
        return ""
    lines = [n for n in bidi_lines(data, min(shown), max(shown)) if n in shown]
    if not lines:
        return ""
    return fmt(strings, "bidi_warning", lines=", ".join(map(str, lines)))
