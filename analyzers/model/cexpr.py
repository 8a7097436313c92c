"""A restricted evaluator of C integer constant expressions, with C's integer types on x86_64.

It is how kvdiff reads numbers out of kernel headers without compiling or running anything:
the preprocessor (:mod:`.cpp`) expands the macros into tokens, and this module evaluates them.
Supported: integer literals (decimal, hex, octal, binary; u/l/ul/ull suffixes), the unary
``+ - ~ !``, every binary arithmetic, shift, comparison, bitwise and logical operator, the
ternary operator, casts to the integer types and typedefs that matter (``(unsigned long)x``,
``(pteval_t)x``), ``sizeof`` of those types, a handful of kernel helpers that live in headers
kvdiff does not read (``BIT``, ``GENMASK``, ``_AT``, ``min_t``...; see :data:`BUILTINS`), and
the one-field wrapper structs of the swap code (``(swp_entry_t) { v }``, ``(pte_t) { .pte = v }``,
``x.val``). Values carry their C type, so ``~`` and shifts on ``unsigned long`` wrap at 64 bits as
they do in the kernel. Anything else raises :class:`CExprError` naming what it met.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from kvdiff.analyzers.errors import KvdiffError


class CExprError(KvdiffError):
    """An expression the restricted evaluator cannot evaluate (the message says what)."""


@dataclass(frozen=True)
class Tok:
    kind: str  # "num" | "id" | "op" | "str"
    text: str


_TOKEN = re.compile(
    r"\s+|(?P<num>(?:0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)[uUlL]*)"
    r"|(?P<id>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<str>\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*')"
    r"|(?P<op>##|<<|>>|<=|>=|==|!=|&&|\|\||->|\.\.\.|[-+*/%&|^~!<>?:(),.{}\[\]=#;])"
)


def tokenize(text: str) -> list[Tok]:
    """C tokens of ``text`` (comments must already be gone)."""
    out: list[Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise CExprError(f"cannot read {text[pos : pos + 20]!r} as C")
        pos = m.end()
        if m.lastgroup:
            out.append(Tok(m.lastgroup, m.group(m.lastgroup)))
    return out


# -- values -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CType:
    bits: int
    signed: bool


INT, UINT = CType(32, True), CType(32, False)
LONG, ULONG = CType(64, True), CType(64, False)


@dataclass(frozen=True)
class Val:
    """An integer of a C type, normalised to that type's range."""

    v: int
    t: CType = INT

    @staticmethod
    def of(v: int, t: CType) -> Val:
        v &= (1 << t.bits) - 1
        if t.signed and v >> (t.bits - 1):
            v -= 1 << t.bits
        return Val(v, t)


@dataclass(frozen=True)
class Struct:
    """A one-field wrapper struct (swp_entry_t, pte_t, pgprot_t): any member reads its value."""

    type_name: str
    value: Val


# Types by name. The typedefs are x86_64's (arch/x86/include/asm/pgtable_64_types.h: pteval_t
# is unsigned long; include/linux/types.h: phys_addr_t is u64 with CONFIG_PHYS_ADDR_T_64BIT).
_TYPEDEFS: dict[str, CType] = {
    "pteval_t": ULONG, "pmdval_t": ULONG, "pudval_t": ULONG, "pgdval_t": ULONG,
    "pgprotval_t": ULONG, "phys_addr_t": ULONG, "pgoff_t": ULONG, "u64": ULONG, "__u64": ULONG,
    "u32": UINT, "__u32": UINT, "s64": LONG, "s32": INT, "size_t": ULONG, "bool": INT,
    "uintptr_t": ULONG,
}  # fmt: skip
_STRUCTS = {"swp_entry_t", "pte_t", "pgprot_t", "pmd_t"}
_KEYWORDS = {"unsigned", "signed", "long", "int", "short", "char"}


def _base_type(words: Sequence[str]) -> CType | str | None:
    """The type a sequence of words names, a struct typedef's name, or None."""
    if len(words) == 1 and words[0] in _TYPEDEFS:
        return _TYPEDEFS[words[0]]
    if len(words) == 1 and words[0] in _STRUCTS:
        return words[0]
    if len(words) == 2 and words[0] == "enum":
        return INT
    if not words or not set(words) <= _KEYWORDS:
        return None
    unsigned = "unsigned" in words
    bits = 64 if "long" in words else 16 if "short" in words else 8 if "char" in words else 32
    return CType(max(bits, 8), not unsigned)


def literal(text: str) -> Val:
    """A C integer literal with its type (C11 6.4.4.1, for LP64)."""
    body = text.rstrip("uUlL")
    suffix = text[len(body) :].lower()
    if body[:2] in ("0x", "0X", "0b", "0B"):
        n, decimal = int(body, 0), False
    elif len(body) > 1 and body.startswith("0"):
        n, decimal = int(body, 8), False
    else:
        n, decimal = int(body), True
    unsigned, long_ = "u" in suffix, "l" in suffix
    candidates = [ULONG] if unsigned and long_ else [LONG, ULONG] if long_ else []
    if not candidates:
        candidates = [UINT, ULONG] if unsigned else (
            [INT, LONG] if decimal else [INT, UINT, LONG, ULONG])  # fmt: skip
    for t in candidates:
        if n < (1 << (t.bits - (1 if t.signed else 0))):
            return Val(n, t)
    raise CExprError(f"the literal {text} does not fit 64 bits")


def _promote(t: CType) -> CType:
    return INT if t.bits < 32 else t


def _common(a: CType, b: CType) -> CType:
    """C's usual arithmetic conversions."""
    a, b = _promote(a), _promote(b)
    if a == b:
        return a
    if a.signed == b.signed:
        return a if a.bits >= b.bits else b
    u, s = (a, b) if not a.signed else (b, a)
    if u.bits >= s.bits:
        return u
    return s


# -- evaluation -------------------------------------------------------------------------------
Builtin = Callable[["Evaluator", list[list[Tok]]], "Val | Struct"]

_PREC = {
    "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6, "<": 7, ">": 7, "<=": 7,
    ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10,
}  # fmt: skip


class Evaluator:
    """Evaluates one token list. ``names`` binds identifiers (macro parameters, the PTE)."""

    def __init__(self, tokens: Sequence[Tok], names: Mapping[str, Val | Struct] | None = None):
        self.toks = list(tokens)
        self.i = 0
        self.names = dict(names or {})

    # -- token helpers --
    def peek(self, k: int = 0) -> Tok | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def take(self, text: str | None = None) -> Tok:
        t = self.peek()
        if t is None or (text is not None and t.text != text):
            want = f"'{text}'" if text else "more"
            raise CExprError(f"expected {want} in {self.source()!r}")
        self.i += 1
        return t

    def source(self) -> str:
        return " ".join(t.text for t in self.toks)

    def run(self) -> Val | Struct:
        value = self.ternary()
        if self.peek() is not None:
            raise CExprError(f"unexpected '{self.peek().text}' in {self.source()!r}")
        return value

    # -- grammar --
    def ternary(self) -> Val | Struct:
        cond = self.binary(1)
        if self.peek() is None or self.peek().text != "?":
            return cond
        self.take("?")
        a = self.ternary()
        self.take(":")
        b = self.ternary()
        return a if truth(cond) else b

    def binary(self, level: int) -> Val | Struct:
        left = self.unary()
        while (t := self.peek()) is not None and t.kind == "op" and _PREC.get(t.text, 0) >= level:
            op = self.take().text
            right = self.binary(_PREC[op] + 1)
            left = binop(op, num(left), num(right))
        return left

    def unary(self) -> Val | Struct:
        t = self.peek()
        if t is None:
            raise CExprError(f"the expression {self.source()!r} ends too early")
        if t.kind == "op" and t.text in ("-", "+", "~", "!"):
            self.take()
            v = num(self.unary())
            pt = _promote(v.t)
            if t.text == "!":
                return Val(int(v.v == 0), INT)
            return Val.of({"-": -v.v, "+": v.v, "~": ~v.v}[t.text], pt)
        if t.kind == "id" and t.text == "sizeof":
            return self.sizeof()
        if t.text == "(" and self.cast_ahead() is not None:
            return self.cast()
        return self.postfix(self.primary())

    def cast_ahead(self) -> CType | str | None:
        """The type of a parenthesised type name at the cursor, if that is what it is."""
        words, k = [], 1
        while (t := self.peek(k)) is not None and t.kind == "id":
            words.append(t.text)
            k += 1
        if not words or self.peek(k) is None or self.peek(k).text != ")":
            return None
        return _base_type(words)

    def cast(self) -> Val | Struct:
        self.take("(")
        target = self.cast_ahead_words()
        self.take(")")
        if isinstance(target, str):  # a compound literal: (swp_entry_t) { ... }
            return Struct(target, self.braced())
        return Val.of(num(self.unary()).v, target)

    def cast_ahead_words(self) -> CType | str:
        words = []
        while (t := self.peek()) is not None and t.kind == "id":
            words.append(self.take().text)
        found = _base_type(words)
        if found is None:
            raise CExprError(f"unknown type ({' '.join(words)}) in {self.source()!r}")
        return found

    def braced(self) -> Val:
        self.take("{")
        if self.peek() is not None and self.peek().text == ".":
            self.take(".")
            self.take()
            self.take("=")
        value = num(self.ternary())
        self.take("}")
        return Val.of(value.v, ULONG)

    def sizeof(self) -> Val:
        self.take("sizeof")
        self.take("(")
        start = self.i
        depth = 1
        while depth:
            t = self.take()
            depth += {"(": 1, ")": -1}.get(t.text, 0)
        inner = [t.text for t in self.toks[start : self.i - 1]]
        found = _base_type(inner)
        if isinstance(found, CType):
            return Val(found.bits // 8, ULONG)
        if found is not None or (len(inner) == 3 and inner[1] == "."):
            return Val(8, ULONG)  # a swap/PTE wrapper or its one unsigned long field
        raise CExprError(f"sizeof({' '.join(inner)}) is not one of the types kvdiff knows")

    def primary(self) -> Val | Struct:
        t = self.take()
        if t.kind == "num":
            return literal(t.text)
        if t.text == "(":
            v = self.ternary()
            self.take(")")
            return v
        if t.kind == "id":
            if self.peek() is not None and self.peek().text == "(" and t.text in BUILTINS:
                return BUILTINS[t.text](self, self.call_args())
            if t.text in self.names:
                return self.names[t.text]
            raise CExprError(f"{t.text} has no value")
        raise CExprError(f"unexpected '{t.text}' in {self.source()!r}")

    def postfix(self, value: Val | Struct) -> Val | Struct:
        while (t := self.peek()) is not None and t.text in (".", "->"):
            self.take()
            self.take()
            value = Val.of(value.value.v if isinstance(value, Struct) else value.v, ULONG)
        return value

    def call_args(self) -> list[list[Tok]]:
        """The arguments of a call at the cursor, as token lists."""
        self.take("(")
        args: list[list[Tok]] = [[]]
        depth = 0
        while True:
            t = self.take()
            if t.text == ")" and depth == 0:
                return args if args != [[]] else []
            if t.text == "," and depth == 0:
                args.append([])
                continue
            depth += {"(": 1, ")": -1}.get(t.text, 0)
            args[-1].append(t)

    def sub(self, tokens: Sequence[Tok]) -> Val | Struct:
        return Evaluator(tokens, self.names).run()


def num(v: Val | Struct) -> Val:
    return v.value if isinstance(v, Struct) else v


def truth(v: Val | Struct) -> bool:
    return num(v).v != 0


def binop(op: str, a: Val, b: Val) -> Val:
    if op in ("&&", "||"):
        return Val(int((a.v != 0 and b.v != 0) if op == "&&" else (a.v != 0 or b.v != 0)))
    if op in ("<<", ">>"):
        t = _promote(a.t)
        if not 0 <= b.v < t.bits:
            raise CExprError(f"shift by {b.v} of a {t.bits}-bit value")
        raw = a.v & ((1 << t.bits) - 1) if not t.signed else a.v
        return Val.of(raw << b.v if op == "<<" else raw >> b.v, t)
    t = _common(a.t, b.t)
    x, y = Val.of(a.v, t).v, Val.of(b.v, t).v
    if op in ("/", "%"):
        if y == 0:
            raise CExprError("division by zero")
        q = abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1)  # C truncates toward 0
        return Val.of(q if op == "/" else x - q * y, t)
    compare = {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y, "==": x == y, "!=": x != y}
    if op in compare:
        return Val(int(compare[op]), INT)
    arith = {"+": x + y, "-": x - y, "*": x * y, "&": x & y, "|": x | y, "^": x ^ y}
    return Val.of(arith[op], t)


# -- helpers defined in headers kvdiff does not read ------------------------------------------
def _bit(ev: Evaluator, args: list[list[Tok]]) -> Val:
    return binop("<<", Val(1, ULONG), num(ev.sub(args[0])))  # include/linux/bits.h: 1UL << nr


def _genmask(ev: Evaluator, args: list[list[Tok]]) -> Val:
    hi, lo = num(ev.sub(args[0])).v, num(ev.sub(args[1])).v
    return Val.of(((1 << (hi + 1)) - 1) & ~((1 << lo) - 1), ULONG)  # include/linux/bits.h


def _type_of(tokens: list[Tok]) -> CType:
    found = _base_type([t.text for t in tokens])
    if not isinstance(found, CType):
        raise CExprError(f"unknown type {' '.join(t.text for t in tokens)}")
    return found


def _at(ev: Evaluator, args: list[list[Tok]]) -> Val:
    return Val.of(num(ev.sub(args[1])).v, _type_of(args[0]))  # include/uapi/linux/const.h


def _suffix(t: CType) -> Builtin:
    return lambda ev, args: Val.of(num(ev.sub(args[0])).v, t)  # _UL(x), _ULL(x): x ## UL


def _minmax_t(pick: Callable[[int, int], int]) -> Builtin:
    def f(ev: Evaluator, args: list[list[Tok]]) -> Val:
        t = _type_of(args[0])
        a, b = Val.of(num(ev.sub(args[1])).v, t), Val.of(num(ev.sub(args[2])).v, t)
        return Val(pick(a.v, b.v), t)

    return f


def _identity(ev: Evaluator, args: list[list[Tok]]) -> Val | Struct:
    return ev.sub(args[0])


BUILTINS: dict[str, Builtin] = {
    "BIT": _bit, "BIT_ULL": _bit, "GENMASK": _genmask, "GENMASK_ULL": _genmask, "_AT": _at,
    "_UL": _suffix(ULONG), "_ULL": _suffix(ULONG), "UL": _suffix(ULONG), "ULL": _suffix(ULONG),
    "min_t": _minmax_t(min), "max_t": _minmax_t(max),
    # pte_val()/__pte() read and make the PTE's value (paravirt or native: the same bits).
    "pte_val": _identity, "__pte": _identity, "native_pte_val": _identity,
    "native_make_pte": _identity, "__sme_clr": _identity,  # __sme_clr: SME assumed off
}  # fmt: skip


def evaluate(tokens: Sequence[Tok], names: Mapping[str, Val | Struct] | None = None) -> Val:
    """The integer value of a fully macro-expanded token list."""
    return num(Evaluator(tokens, names).run())


def evaluate_text(text: str, names: Mapping[str, Val | Struct] | None = None) -> Val:
    return evaluate(tokenize(text), names)
