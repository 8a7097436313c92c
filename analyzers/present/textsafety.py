"""Source text that must not mislead a reader: bidirectional controls and bytes that are not UTF-8.

Trojan Source (CVE-2021-42574): U+202A–U+202E and U+2066–U+2069 reorder how text is displayed
without changing what a compiler reads, so code can look unlike what it does. kvdiff never shows
them raw, in a terminal or in HTML: each becomes a visible marker such as ``<U+202E>``, with a
warning naming the lines. Only what is displayed changes; the analysis reads the original bytes.

Bytes that are not UTF-8 are shown as ``\\xNN`` in a terminal and as a marked U+FFFD in HTML; in
JSON they survive as Python's ``surrogateescape`` code points (byte 0xNN -> U+DCNN).
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

BIDI_NAMES = {
    "\u202a": "LEFT-TO-RIGHT EMBEDDING",
    "\u202b": "RIGHT-TO-LEFT EMBEDDING",
    "\u202c": "POP DIRECTIONAL FORMATTING",
    "\u202d": "LEFT-TO-RIGHT OVERRIDE",
    "\u202e": "RIGHT-TO-LEFT OVERRIDE",
    "\u2066": "LEFT-TO-RIGHT ISOLATE",
    "\u2067": "RIGHT-TO-LEFT ISOLATE",
    "\u2068": "FIRST STRONG ISOLATE",
    "\u2069": "POP DIRECTIONAL ISOLATE",
}
# _BIDI, _INVISIBLE and _TERMINAL are compiled on first use, through re's own cache: a report's
# pages need only _SPECIAL_RE and _BIDI_BYTES (below), a terminal command only _TERMINAL, and a
# pattern costs 0.1-0.4 ms to compile.
_BIDI = "[\u202a-\u202e\u2066-\u2069]"
# Characters a reader cannot see, or that drive the terminal itself: C0 controls but tab and
# newline (an ESC in a source line could recolour or rewrite the screen), DEL, C1 controls, and
# the zero-width characters (an identifier with U+200B looks like another one).
INVISIBLE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff"
_INVISIBLE = f"[{INVISIBLE}]"
_TERMINAL = f"[\u202a-\u202e\u2066-\u2069{INVISIBLE}]"
# The same characters as UTF-8 bytes, to find them without decoding a whole file.
_BIDI_BYTES = re.compile(b"\xe2(?:\x80[\xaa-\xae]|\x81[\xa6-\xa9])")


def marker(ch: str) -> str:
    """The visible stand-in for one control character, e.g. ``<U+202E>``."""
    return f"<U+{ord(ch):04X}>"


def has_bidi(text: str) -> bool:
    return re.search(_BIDI, text) is not None


def bidi_lines(data: bytes, first_line: int = 1, last_line: int | None = None) -> list[int]:
    """1-based numbers of the lines of ``data`` in [first_line, last_line] holding a control."""
    lines = sorted({data.count(b"\n", 0, m.start()) + 1 for m in _BIDI_BYTES.finditer(data)})
    return [n for n in lines if n >= first_line and (last_line is None or n <= last_line)]


def bidi_warning(what: str, lines: list[int]) -> str | None:
    """One warning line for ``what`` (e.g. "f in mm/x.c at v1"), or None when ``lines`` is empty."""
    if not lines:
        return None
    shown = ", ".join(str(n) for n in lines[:10]) + (" …" if len(lines) > 10 else "")
    return (
        f"{what} contains bidirectional control characters (Trojan Source, CVE-2021-42574) at "
        f"line(s) {shown}; they are shown as <U+XXXX> markers, the code may read otherwise"
    )


def terminal_text(raw: bytes) -> str:
    """A line of source for a terminal: bad bytes as ``\\xNN``, bidi controls and invisible
    characters as markers."""
    return terminal_safe(raw.decode("utf-8", errors="backslashreplace"))


def terminal_safe(text: str) -> str:
    """Already-decoded text for a terminal, with bidi controls and invisible characters
    (controls such as ESC, zero-width spaces) as ``<U+XXXX>`` markers."""
    if re.search(_TERMINAL, text) is None:
        return text
    return re.sub(_TERMINAL, lambda m: marker(m.group()), text)


def html_piece(piece: str) -> Markup:
    """Escaped HTML for a piece of source text, with bidi controls and U+FFFD (a byte that is
    not UTF-8, once decoded) made visible as marked, titled spans."""
    if not _SPECIAL_RE.search(piece):
        return escape(piece)
    out = Markup("")
    last = 0
    for m in _SPECIAL_RE.finditer(piece):
        out += escape(piece[last : m.start()])
        ch = m.group()
        if re.match(_INVISIBLE, ch):
            out += Markup(_INVISIBLE_SPAN).format(ord(ch), marker(ch))
        elif ch == "\ufffd":
            out += Markup(
                '<span class="bad-byte" title="bytes that are not valid UTF-8">\ufffd</span>'
            )
        else:
            out += Markup('<span class="bidi" title="{} (U+{:04X})">{}</span>').format(
                BIDI_NAMES[ch], ord(ch), marker(ch)
            )
        last = m.end()
    return out + escape(piece[last:])


_INVISIBLE_SPAN = '<span class="bidi" title="invisible character (U+{:04X})">{}</span>'
_SPECIAL_RE = re.compile(f"[\u202a-\u202e\u2066-\u2069\ufffd{INVISIBLE}]")


def escape_text(text: str) -> str:
    """``str(markupsafe.escape(text))`` for a plain ``str``: its five replacements, ``&`` first.
    Chained ``str.replace`` calls, which return the string itself when there is nothing to
    replace: a few times quicker than ``str.translate`` or the Markup round trip on the short
    strings a page is made of."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


def needs_marks(piece: str) -> bool:
    """Whether :func:`html_piece` has more to do than escape ``piece`` (a bidi control, an
    invisible character or a U+FFFD in it)."""
    return _SPECIAL_RE.search(piece) is not None


def has_bidi_bytes(data: bytes) -> bool:
    """Whether UTF-8 ``data`` holds a bidi control (what :func:`plain_html_text` replaces)."""
    return _BIDI_BYTES.search(data) is not None


def plain_html_text(html: str) -> str:
    """Last line of defence for a whole rendered page: any bidi control still raw (in a title
    attribute, a condition, a card) becomes its plain-text marker, escaped for HTML."""
    # Nine substring scans cost a fifth of one character-class search over a whole page.
    if not any(ch in html for ch in BIDI_NAMES):
        return html
    return re.sub(_BIDI, lambda m: f"&lt;U+{ord(m.group()):04X}&gt;", html)
