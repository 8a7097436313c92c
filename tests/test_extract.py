"""analyzers.extract on our own synthetic C (fixtures/c/extract_*.c): spans, signatures, #ifdef
arms, K&R line breaks, pointer returns, macro bodies and ERROR nodes."""

from __future__ import annotations

import pytest
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.parse.cparse import parse_c
from kvdiff.analyzers.parse.extract import (
    closest_names,
    find_functions,
    function_names,
    require_function,
)

from tests.conftest import FIXTURES

SHAPES = FIXTURES / "c" / "extract_shapes.c"


@pytest.fixture(scope="module")
def data() -> bytes:
    return SHAPES.read_bytes()


@pytest.fixture(scope="module")
def lines(data: bytes) -> list[str]:
    return data.decode("utf-8").split("\n")


def expected_span(lines: list[str], first_line_text: str, occurrence: int = 0) -> tuple[int, int]:
    """An oracle independent of tree-sitter: the definition starts at the given line and ends at
    the next line that is exactly "}" (every fixture function closes in column 0)."""
    starts = [i for i, line in enumerate(lines) if line == first_line_text]
    start = starts[occurrence]
    end = next(i for i in range(start, len(lines)) if lines[i] == "}")
    return start + 1, end + 1


@pytest.mark.parametrize(
    ("name", "first_line", "signature"),
    [
        (
            "fx_unmap_one",
            "static int fx_unmap_one(struct fx_item *item, /* the entry */",
            "static int fx_unmap_one(struct fx_item *item, /* the entry */\n"
            "\t\t\tunsigned long where)",
        ),
        (
            "fx_address_of",
            "static unsigned long",
            "static unsigned long\nfx_address_of(struct fx_item *item,\n"
            "\t      unsigned long base)",
        ),
        (
            "fx_first",
            "static struct fx_item *fx_first(struct fx_item *head)",
            "static struct fx_item *fx_first(struct fx_item *head)",
        ),
        ("fx_names", "char **", "char **\nfx_names(void)"),
        ("fx_after_split", "int fx_after_split(void)", "int fx_after_split(void)"),
    ],
)
def test_single_definition_span_and_signature(
    data: bytes, lines: list[str], name: str, first_line: str, signature: str
) -> None:
    (fn,) = find_functions(parse_c(data), name)
    assert (fn.start_line, fn.end_line) == expected_span(lines, first_line)
    assert fn.signature == signature
    assert fn.text.startswith(signature)
    assert fn.text.endswith("}")
    # Positions are byte offsets: slicing the bytes gives exactly the text.
    assert data[fn.start_byte : fn.end_byte].decode("utf-8") == fn.text
    assert not fn.has_errors


def test_prototype_is_not_a_definition(data: bytes) -> None:
    # The file declares fx_unmap_one before defining it; only the definition counts.
    assert data.count(b"static int fx_unmap_one(") == 2
    assert len(find_functions(parse_c(data), "fx_unmap_one")) == 1


def test_multibyte_text_before_function_keeps_byte_offsets_right(data: bytes) -> None:
    (fn,) = find_functions(parse_c(data), "fx_unmap_one")
    assert "naïve" in data[: fn.start_byte].decode("utf-8")
    assert len(data[: fn.start_byte]) != len(data[: fn.start_byte].decode("utf-8"))
    assert (
        fn.text.splitlines()[0] == "static int fx_unmap_one(struct fx_item *item, /* the entry */"
    )


def test_ifdef_arms_give_two_definitions_in_file_order(data: bytes, lines: list[str]) -> None:
    defs = find_functions(parse_c(data), "fx_pick_arm")
    assert len(defs) == 2
    first = "static int fx_pick_arm(struct fx_item *item)"
    assert [(d.start_line, d.end_line) for d in defs] == [
        expected_span(lines, first, 0),
        expected_span(lines, first, 1),
    ]
    assert "return item->flags;" in defs[0].text
    assert "return 0;" in defs[1].text
    assert lines[defs[0].start_line - 2] == "#ifdef CONFIG_FX_MIGRATION"
    assert lines[defs[1].start_line - 2] == "#else"


def test_function_names_list_each_definition(data: bytes) -> None:
    names = function_names(parse_c(data))
    assert names.count("fx_pick_arm") == 2
    assert names.index("fx_unmap_one") < names.index("fx_after_split")
    assert "fx_item" not in names  # a struct is not a function


def test_ifdef_splitting_if_else_is_reported_not_fatal(data: bytes, lines: list[str]) -> None:
    parsed = parse_c(data)
    (fn,) = find_functions(parsed, "fx_split_branches")
    assert (fn.start_line, fn.end_line) == expected_span(
        lines, "static int fx_split_branches(int x, int y)"
    )
    assert fn.has_errors
    else_lines = [
        i + 1 for i in range(fn.start_line - 1, fn.end_line) if lines[i].strip() == "} else"
    ]
    assert [e.start_line for e in fn.errors if e.kind == "ERROR"] == else_lines
    # The damage stays inside: the next function parses cleanly.
    (after,) = find_functions(parsed, "fx_after_split")
    assert not after.has_errors


def test_macro_loop_body_is_extracted_whole_with_its_parse_problem(
    data: bytes, lines: list[str]
) -> None:
    (fn,) = find_functions(parse_c(data), "fx_count")
    assert (fn.start_line, fn.end_line) == expected_span(
        lines, "int fx_count(struct fx_item *head)"
    )
    assert "return n;" in fn.text
    walk_line = next(i + 1 for i, line in enumerate(lines) if "FX_WALK(it, head) {" in line)
    assert [e.start_line for e in fn.errors] == [walk_line]


def test_missing_function_lists_closest_names(data: bytes) -> None:
    parsed = parse_c(data)
    assert find_functions(parsed, "fx_unmap_once") == []
    assert closest_names(parsed, "fx_unmap_once")[0] == "fx_unmap_one"
    with pytest.raises(KvdiffError) as err:
        require_function(parsed, "fx_unmap_once", "extract_shapes.c at test")
    message = err.value.message
    assert "fx_unmap_once" in message and "closest: fx_unmap_one" in message
    assert "\n" not in message


def test_missing_function_without_similar_names() -> None:
    parsed = parse_c(b"int alpha(void) { return 0; }\n")
    with pytest.raises(KvdiffError, match="no similarly named function"):
        require_function(parsed, "zzzzzz", "x.c")


def test_invalid_utf8_does_not_crash() -> None:
    data = b"/* caf\xe9 */\nint latin(void)\n{\n\treturn 1;\n}\n"
    (fn,) = find_functions(parse_c(data), "latin")
    assert (fn.start_line, fn.end_line) == (2, 5)
    assert fn.signature == "int latin(void)"


def test_garbage_input_never_raises() -> None:
    parsed = parse_c(b"}}}{{{ int ( ; #if\n\x00\xff garbage")
    assert find_functions(parsed, "anything") == []
