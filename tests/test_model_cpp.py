"""The restricted preprocessor (model/cpp.py), expression evaluator (model/cexpr.py) and inline
function evaluator (model/inline.py), on kvdiff's OWN synthetic headers in fixtures/headers/
(written for these tests; no kernel text)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from kvdiff.analyzers.model.cexpr import (
    INT,
    LONG,
    UINT,
    ULONG,
    CExprError,
    Struct,
    Val,
    evaluate_text,
    literal,
)
from kvdiff.analyzers.model.cpp import Config, Preprocessor
from kvdiff.analyzers.model.inline import InlineFunctions
from kvdiff.analyzers.model.tagfacts import preprocess

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "headers"
SLOTS = "include/synth/slots.h"
TYPES = "include/synth/types.h"


def _read(path: str) -> str | None:
    f = FIX / path
    return f.read_text() if f.is_file() else None


def _pp(**config: int) -> Preprocessor:
    def include(name: str, current: str) -> str | None:
        path = f"include/{name}"
        return path if (FIX / path).is_file() else None

    pp = Preprocessor(Config(config), include)
    # _AT() lives in a header the fixture does not have: the model adds it as an assumption.
    pp.process("<assumed>", "#define _AT(T, x) ((T)(x))\n", _read)
    pp.process(SLOTS, _read(SLOTS), _read)
    return pp


# -- expressions ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "value", "ctype"),
    [
        ("0x7fffffff", 0x7FFFFFFF, INT),
        ("0x80000000", 0x80000000, UINT),  # a hex literal that does not fit int is unsigned
        ("2147483648", 2147483648, LONG),  # a decimal one is long
        ("1UL", 1, ULONG),
        ("017", 15, INT),
        ("0b101", 5, INT),
    ],
)
def test_literals_have_their_c_types(text: str, value: int, ctype) -> None:
    assert literal(text) == Val(value, ctype)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("~0UL", (1 << 64) - 1),
        ("~0", -1),
        ("~(unsigned long)5 << 14 >> 5", ((~5 & ((1 << 64) - 1)) << 14 & ((1 << 64) - 1)) >> 5),
        ("1UL << 63 >> 63", 1),
        ("-1 < 0", 1),
        ("-1 < 0U", 0),  # -1 converts to UINT_MAX: C's usual arithmetic conversions
        ("-7 / 2", -3),  # C truncates toward zero
        ("-7 % 2", -1),
        ("1 ? 2 : 3", 2),
        ("0 ? 2 : 1 ? 4 : 5", 4),
        ("!5 || (3 && 0)", 0),
        ("(unsigned char)0x1ff", 0xFF),
        ("sizeof(unsigned long) * 8", 64),
        ("sizeof(int)", 4),
        ("BIT(3) | GENMASK(7, 6)", 0xC8),
        ("min_t(int, 52, 58)", 52),
        ("((swp_entry_t) { .val = 9 }).val + 1", 10),
        ("(5 > 3) == 1", 1),
        ("0x10 ^ 0x11", 1),
    ],
)
def test_expressions_follow_c(text: str, value: int) -> None:
    assert evaluate_text(text).v == value


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("FOO + 1", "FOO has no value"),
        ("1 / 0", "division by zero"),
        ("(struct page *)0", "struct has no value"),
        ("1 << 64", "shift by 64"),
        ("(1 + 2", "expected ')'"),
    ],
)
def test_what_cannot_be_evaluated_is_named(text: str, what: str) -> None:
    with pytest.raises(CExprError, match=re.escape(what)):
        evaluate_text(text)


def test_names_bind_values_and_wrapper_structs() -> None:
    e = Struct("swp_entry_t", Val(0x1234, ULONG))
    assert evaluate_text("(x).val >> 4", {"x": e}).v == 0x123
    assert evaluate_text("sizeof(x.val)", {"x": e}).v == 8


# -- the preprocessor -------------------------------------------------------------------------
def test_config_chooses_the_arms_and_the_numbers_follow() -> None:
    both = _pp(CONFIG_FEATURE_A=1, CONFIG_FEATURE_B=1)
    # TOTAL_SLOTS = 64 - A_NUM (2) - B_NUM (1) = 61, continued over three lines
    assert both.value("TOTAL_SLOTS").v == 61
    assert both.value("SLOT_B").v == 61
    assert (both.value("SLOT_A_FIRST").v, both.value("SLOT_A_SECOND").v) == (62, 63)
    # The #elif arm: FEATURE_C wins over B and takes three slots.
    c = _pp(CONFIG_FEATURE_B=1, CONFIG_FEATURE_C=1)
    assert (c.value("B_NUM").v, c.value("TOTAL_SLOTS").v, c.value("SLOT_B").v) == (3, 61, 63)
    assert "SLOT_A_FIRST" not in c.macros
    none = _pp()
    assert none.value("TOTAL_SLOTS").v == 64
    assert "SLOT_B" not in none.macros


def test_macros_remember_their_line_and_the_options_around_them() -> None:
    pp = _pp(CONFIG_FEATURE_B=1)
    m = pp.macros["SLOT_B"]
    assert m.cite == f"{SLOTS}:27"
    assert m.guards == {"CONFIG_FEATURE_B", "CONFIG_FEATURE_C"}
    assert pp.macros["FLAG_BIT_ON"].guards == frozenset()
    # The #else arm rests on both earlier conditions.
    assert _pp().macros["B_NUM"].guards == {"CONFIG_FEATURE_B", "CONFIG_FEATURE_C"}


def test_a_condition_it_cannot_read_is_off_and_says_so() -> None:
    pp = _pp()
    # `#if __has_builtin(...) > 1`: a compiler builtin the evaluator does not know.
    assert pp.value("FROB").v == 2
    (guard,) = pp.macros["FROB"].guards
    assert guard == f"#if __has_builtin(__builtin_frob) > 1 at {SLOTS}:{_line('__has_builtin')}"


def _line(text: str) -> int:
    return next(i for i, s in enumerate(_read(SLOTS).splitlines(), 1) if text in s)


def test_integer_config_values_and_undef() -> None:
    assert _pp(CONFIG_LEVELS=5).macros["DEPTH"].body[0].text == "9"  # #undef then #define
    pp = Preprocessor(Config({"CONFIG_LEVELS": 5}))
    pp.process("x.h", "#if CONFIG_LEVELS > 4\n#define D 5\n#else\n#define D 4\n#endif\n", _read)
    assert pp.value("D").v == 5


def test_includes_are_followed_only_when_resolvable() -> None:
    pp = _pp()
    assert TYPES in pp.files and "include/synth/not_listed.h" not in pp.files
    # SLOT_LOW_BIT comes from the included file and uses a macro of the includer.
    assert pp.value("SLOT_LOW_BIT").v == 8
    assert pp.macros["SLOT_LOW_BIT"].cite == f"{TYPES}:6"


def test_function_like_macros_paste_and_variadics() -> None:
    pp = _pp()
    assert pp.value("PASTED").v == 6  # PASTE(SLOT_, BITS) -> SLOT_BITS
    assert pp.call("TWICE", [[_num("21")]], {}).v == 42
    assert pp.call("LAST", [[_num("1")], [_num("2")]], {}).v == 3
    assert pp.value("FLAG_ON").v == 1 and pp.value("FLAG_WIDE").v == 1 << 40
    assert pp.value("FLAG_FIELD").v == 0xF00


def _num(text: str):
    from kvdiff.analyzers.model.cexpr import Tok

    return Tok("num", text)


def test_an_inverted_packing_round_trips() -> None:
    pp = _pp()
    from kvdiff.analyzers.model.cexpr import Tok

    x = [Tok("id", "x")]
    for kind, idx in ((0, 0), (5, 0x1A2B), (63, (1 << 40) - 1)):
        packed = pp.call("PACK", [[_num(str(kind))], [_num(str(idx))]], {})
        entry = {"x": Struct("swp_entry_t", Val(packed.v, ULONG))}
        assert pp.call("KIND_OF", [x], entry).v == kind
        assert pp.call("IDX_OF", [x], entry).v == idx


def test_active_lines_blank_the_inactive_arms_and_keep_line_numbers() -> None:
    pp = _pp()
    lines = pp.active_lines(SLOTS)
    text = "\n".join(lines)
    assert "SLOT_ONLY_A" not in text and "SLOT_NEXT" in text
    assert len(lines) == _read(SLOTS).count("\n") + 1
    n = _line("SLOT_NONE,")
    assert lines[n - 1].strip().startswith("SLOT_NONE")  # where the file has it
    assert "SLOT_ONLY_A" in "\n".join(_pp(CONFIG_FEATURE_A=1).active_lines(SLOTS))


def test_inline_functions_are_evaluated() -> None:
    pp = _pp()
    fns = InlineFunctions(pp, SLOTS)
    made = fns.call("make_slot", [Val(3, ULONG), Val(0x55, ULONG)])
    assert isinstance(made, Struct) and made.value.v == (3 << 58) | 0x55
    assert fns.call("slot_kind", [made]) == Val(3, UINT)
    assert fns.cite("slot_kind") == f"{SLOTS}:{_line('slot_kind(')}"
    with pytest.raises(CExprError, match="defines no function nothing_here"):
        fns.call("nothing_here", [])


def test_an_unterminated_if_is_an_error() -> None:
    pp = Preprocessor(Config({}))
    with pytest.raises(CExprError, match="#if without #endif"):
        pp.process("bad.h", "#ifdef X\n#define Y 1\n", _read)
    with pytest.raises(CExprError, match="#endif without #if"):
        Preprocessor(Config({})).process("bad2.h", "#endif\n", _read)


def test_preprocess_adds_the_stated_assumptions_last() -> None:
    from kvdiff.analyzers.model.encoding import ModelConfig

    pp = preprocess([("a.h", b"#define PAGE_SHIFT 13\n#define SHIFTED (1UL << PAGE_SHIFT)\n")],
                    ModelConfig())  # fmt: skip
    # The header's own PAGE_SHIFT wins over the assumed 12; PAGE_SIZE is assumed, from it.
    assert pp.value("SHIFTED").v == 8192
    assert pp.value("PAGE_SIZE").v == 8192 and pp.macros["PAGE_SIZE"].path == "assumed"
