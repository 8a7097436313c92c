"""A function's definitions as numbered source lines or as a JSON-ready dict (``kvdiff show``)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from kvdiff.analyzers.parse.cparse import parse_c
from kvdiff.analyzers.parse.extract import ErrorSpan, FunctionDef, require_function
from kvdiff.analyzers.present.textsafety import bidi_lines, bidi_warning, terminal_text
from kvdiff.analyzers.source.repo import SourceFile


@dataclass(frozen=True)
class Listing:
    """Every definition of one function in one file at one tag, with where the file came from."""

    source: SourceFile
    function: str
    definitions: tuple[FunctionDef, ...]

    @property
    def where(self) -> str:
        return f"{self.source.path} at {self.source.tag}"


def list_function(source: SourceFile, function: str) -> Listing:
    """Parse ``source`` and find ``function`` (KvdiffError naming close names if absent)."""
    parsed = parse_c(source.data)
    where = f"{source.path} at {source.tag}"
    return Listing(source, function, tuple(require_function(parsed, function, where)))


def header_line(listing: Listing) -> str:
    src = listing.source
    return f"{src.tag} {src.path} blob {src.blob_id} from {src.origin}"


def numbered_lines(listing: Listing) -> list[str]:
    """The definitions' whole source lines prefixed with real line numbers; a blank line
    separates definitions (``#ifdef`` arms)."""
    lines = listing.source.data.split(b"\n")
    width = len(str(max(d.end_line for d in listing.definitions)))
    out: list[str] = []
    for i, definition in enumerate(listing.definitions):
        if i:
            out.append("")
        for number in range(definition.start_line, definition.end_line + 1):
            # Bytes that are not UTF-8 as \xNN, bidi controls and invisible characters as
            # <U+XXXX>: never raw. A CRLF line's CR is the line end, not a character.
            text = terminal_text(lines[number - 1].rstrip(b"\r"))
            out.append(f"{number:>{width}}  {text}".rstrip())
    return out


def _span_text(spans: tuple[ErrorSpan, ...]) -> str:
    parts = []
    for span in spans:
        lines = (
            str(span.start_line)
            if span.start_line == span.end_line
            else f"{span.start_line}-{span.end_line}"
        )
        parts.append(f"{lines} ({span.kind})")
    return ", ".join(parts)


def error_warning(listing: Listing) -> str | None:
    """One line naming the ERROR/MISSING line spans, or None when the parse is clean."""
    spans = tuple(span for d in listing.definitions for span in d.errors)
    if not spans:
        return None
    return (
        f"{listing.function} in {listing.where} has parse errors at line(s) {_span_text(spans)}; "
        "printed as is (preprocessor conditionals may split statements)"
    )


def bidi_warning_line(listing: Listing) -> str | None:
    """A warning naming the lines with bidirectional control characters, or None."""
    lines = [
        n
        for d in listing.definitions
        for n in bidi_lines(listing.source.data, d.start_line, d.end_line)
    ]
    return bidi_warning(f"{listing.function} in {listing.where}", lines)


def _raw_text(data: bytes, start: int, end: int) -> dict:
    """``text`` is ``data[start:end]`` decoded with surrogateescape, so that
    ``text.encode("utf-8", "surrogateescape")`` gives the bytes back exactly (a byte 0xNN that
    is not UTF-8 becomes U+DCNN, written ``\\udcNN`` in JSON); then ``text_base64`` holds the
    bytes too, for JSON readers that reject lone surrogates."""
    raw = data[start:end]
    out: dict = {"text": raw.decode("utf-8", errors="surrogateescape")}
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        out["text_base64"] = base64.b64encode(raw).decode("ascii")
    return out


def listing_json(listing: Listing) -> dict:
    """The machine form of ``kvdiff show --json`` (fields documented in the README)."""
    src = listing.source
    return {
        "tag": src.tag,
        "path": src.path,
        "blob_id": src.blob_id,
        "origin": src.origin,
        "function": listing.function,
        "definitions": [
            {
                "signature": d.signature,
                "start_line": d.start_line,
                "end_line": d.end_line,
                "start_byte": d.start_byte,
                "end_byte": d.end_byte,
                "has_errors": d.has_errors,
                "errors": [
                    {
                        "kind": e.kind,
                        "start_line": e.start_line,
                        "end_line": e.end_line,
                        "start_byte": e.start_byte,
                        "end_byte": e.end_byte,
                        **_raw_text(src.data, e.start_byte, e.end_byte),
                    }
                    for e in d.errors
                ],
                **_raw_text(src.data, d.start_byte, d.end_byte),
            }
            for d in listing.definitions
        ],
    }
