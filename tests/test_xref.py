"""Cross-links in the code (present/site/xref.py) on our own C: labels scoped to their function,
definitions from the tags query (not prototypes), links only where the HTML spells the name."""

from __future__ import annotations

from kvdiff.analyzers.present.highlight import highlight_lines, render_line
from kvdiff.analyzers.present.site.xref import FileRefs, link_line, on_elixir, resolver
from markupsafe import Markup

SOURCE = b"""static int helper(int x);

static int helper(int x)
{
\tif (x)
\t\tgoto out;
\treturn 1;
out:
\treturn 0;
}

int *maker(void) { return 0; }

int user(int y)
{
\tif (helper(y) && other(y))
\t\tgoto out;
\tmaker();
out:
\treturn helper(y);
}
"""


def _refs() -> FileRefs:
    return FileRefs(SOURCE)


def test_labels_are_scoped_to_the_function_of_the_goto() -> None:
    refs = _refs()
    (goto1,) = refs.on(6)
    (goto2,) = refs.on(17)
    assert (goto1.kind, goto1.name, goto1.target) == ("label", "out", 8)
    assert (goto2.kind, goto2.name, goto2.target) == ("label", "out", 19)


def test_calls_link_to_definitions_not_prototypes() -> None:
    refs = _refs()
    assert refs.definitions == {"helper": 3, "maker": 12, "user": 14}
    kinds = {(r.name, r.kind, r.target) for r in refs.on(16)}
    assert kinds == {("helper", "definition", 3), ("other", "external", 0)}
    assert [(r.name, r.target) for r in refs.on(18)] == [("maker", 12)]


def test_link_line_wraps_exactly_the_identifier() -> None:
    lines = {ln.number: ln for ln in highlight_lines(SOURCE)}
    ln = lines[16]
    html = render_line(ln.text, ln.spans)
    here = {n: f"#L{n}" for n in range(1, 22)}
    linked = link_line(html, ln.text, _refs().on(16), resolver("v5.1", "x.c", here))
    assert '<a class="xr" href="#L3">helper</a>' in linked
    assert (
        '<a class="xr ext" href="https://elixir.bootlin.com/linux/v5.1/C/ident/other" '
        'tabindex="-1">other</a>' in linked
    )
    assert Markup(linked).striptags() == Markup(html).striptags()
    # A tag that Elixir does not have gets no external link; internal links stay.
    old = link_line(html, ln.text, _refs().on(16), resolver("v2.6.7", "x.c", here))
    assert "elixir" not in old and 'href="#L3"' in old
    # A definition the page does not show goes to Elixir at the same tag and line.
    far = link_line(html, ln.text, _refs().on(16), resolver("v5.1", "x.c", {}))
    assert 'href="https://elixir.bootlin.com/linux/v5.1/source/x.c#L3"' in far


def test_a_line_whose_html_does_not_line_up_stays_unlinked() -> None:
    lines = {ln.number: ln for ln in highlight_lines(SOURCE)}
    ln = lines[16]
    # A diff mark that cuts through the name: a link would cross a tag.
    start = ln.text.index("helper")
    html = render_line(ln.text, ln.spans, ((start + 2, start + 4),))
    refs = tuple(r for r in _refs().on(16) if r.name == "helper")
    assert link_line(html, ln.text, refs, resolver("v5.1", "x.c", {3: "#L3"})) == html
    # HTML that spells a different text (e.g. visible marks for invisible characters).
    assert link_line(Markup("x"), ln.text, refs, resolver("v5.1", "x.c", {3: "#L3"})) == "x"


def test_elixir_has_release_tags_from_v2_6_11() -> None:
    assert on_elixir("v2.6.11") and on_elixir("v5.10.37") and on_elixir("v6.1-rc3")
    assert not on_elixir("v2.6.7") and not on_elixir("my-branch")
