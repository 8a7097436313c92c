"""Find function definitions by name in a parsed C file."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.parse import recover
from kvdiff.analyzers.parse.cparse import ParsedFile, captures, error_nodes, node_text
from tree_sitter import Node

_FUNCTIONS = "(function_definition) @fn"


@dataclass(frozen=True)
class ErrorSpan:
    """An ERROR or MISSING node: where tree-sitter could not make sense of the code."""

    kind: str  # "ERROR" or "MISSING"
    start_line: int
    end_line: int
    start_byte: int
    end_byte: int
    text: str


@dataclass(frozen=True)
class FunctionDef:
    """One definition of a function, with real (1-based) file line numbers."""

    name: str
    signature: str  # verbatim text from the definition's start up to the body's '{'
    start_line: int
    end_line: int
    start_byte: int
    end_byte: int
    text: str
    errors: tuple[ErrorSpan, ...]
    node: Node = field(compare=False, repr=False, hash=False)
    body: Node | None = field(compare=False, repr=False, hash=False)
    # Kernel symbols the definition is also known by (SYSCALL_DEFINEn: sys_<name>).
    aliases: tuple[str, ...] = ()
    # Why the definition was read from a shadow copy of the file (recover.py), "" when not:
    # the header macro (e.g. "SYSCALL_DEFINE6"), "header macro", and/or "#if arms".
    recovered: str = ""
    # The bytes ``node`` was parsed from when they are not the file's (a rewritten header).
    source: bytes | None = field(default=None, compare=False, repr=False, hash=False)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)


def _declarator_name(data: bytes, decl: Node | None) -> str | None:
    """The identifier a (possibly pointer/parenthesised) function declarator declares."""
    while decl is not None:
        if decl.type == "identifier":
            return node_text(data, decl)
        if decl.type == "function_declarator":
            decl = decl.child_by_field_name("declarator")
        elif decl.type in ("pointer_declarator", "attributed_declarator"):
            decl = decl.child_by_field_name("declarator") or (
                decl.named_children[-1] if decl.named_children else None
            )
        elif decl.type == "parenthesized_declarator":
            decl = decl.named_children[0] if decl.named_children else None
        else:
            return None
    return None


@dataclass(frozen=True)
class _Found:
    node: Node
    name: str
    aliases: tuple[str, ...] = ()
    recovered: str = ""
    source: bytes | None = None


_DEFINITIONS: dict[bytes, list[_Found]] = {}  # every definition, the shadow's included
_OWN: dict[bytes, list[_Found]] = {}  # the tree's own only
_DEFINITIONS_KEPT = 4


def _kept(memo: dict[bytes, list[_Found]], data: bytes, make) -> list[_Found]:
    found = memo.get(data)
    if found is None:
        if len(memo) >= _DEFINITIONS_KEPT:
            del memo[next(iter(memo))]
        found = memo[data] = make()
    return found


def _definitions(parsed: ParsedFile, name: str | None = None) -> list[_Found]:
    """Every named definition in file order: the tree's own (never a block nested in a
    function), then those only the shadow copy has (``recover.py``). The last few files' are
    kept: looking up the function, its siblings and its callers asks again for the same file.
    With ``name``, the shadow (a second parse) is made only if one of its definitions could be
    ``name`` (:func:`_shadow_may_define`): else the tree's own are all there is to filter."""
    data = parsed.data
    if name is not None and data not in _DEFINITIONS:
        own = _kept(_OWN, data, lambda: _own_definitions(parsed))
        if not _shadow_may_define(data, own, name):
            return own
    return _kept(_DEFINITIONS, data, lambda: _find_definitions(parsed))


def _own_definitions(parsed: ParsedFile) -> list[_Found]:
    found = []
    for fn in captures(_FUNCTIONS, parsed.tree.root_node).get("fn", []):
        name = _declarator_name(parsed.data, fn.child_by_field_name("declarator"))
        if name and not recover.is_nested(fn):
            found.append(_own_definition(parsed.data, fn, name))
    return sorted((f for f in found if f.name), key=lambda f: f.node.start_byte)


def _find_definitions(parsed: ParsedFile) -> list[_Found]:
    found = list(_kept(_OWN, parsed.data, lambda: _own_definitions(parsed)))
    shadow = recover.shadow(parsed.data, parsed.tree.root_node)
    if shadow is not None:
        taken = [(f.node.start_byte, f.node.end_byte) for f in found]
        for fn in captures(_FUNCTIONS, shadow.tree.root_node).get("fn", []):
            if recover.is_nested(fn) or any(
                a < fn.end_byte and fn.start_byte < b for a, b in taken
            ):
                continue
            found.append(_shadow_definition(shadow, fn))
    return sorted((f for f in found if f.name), key=lambda f: f.node.start_byte)


def _shadow_may_define(data: bytes, own: list[_Found], name: str) -> bool:
    """Whether a definition only the shadow copy has could be ``name`` or known by it.

    Such a definition overlaps none of the tree's own, and the shadow differs from the file
    only by blanks (whole lines) and rewritten headers that keep the defined name: so its name
    is text of the file outside every own definition, and a syscall's aliases are that name
    with ``sys_`` or ``compat_sys_`` in front. When none of it is there, the shadow (a second
    parse) cannot change what :func:`find_functions` returns."""
    needles = {name.encode()}
    needles |= {name[len(p) :].encode() for p in ("sys_", "compat_sys_") if name.startswith(p)}
    at = 0
    for start, end in sorted((f.node.start_byte, f.node.end_byte) for f in own):
        if any(data.find(n, at, start) >= 0 for n in needles):
            return True
        at = max(at, end)
    return any(data.find(n, at) >= 0 for n in needles)


def _own_definition(data: bytes, fn: Node, name: str) -> _Found:
    # SYSCALL_DEFINE0(getpid) parses as a definition of "getpid" typed SYSCALL_DEFINE0
    body = fn.child_by_field_name("body")
    found = recover.syscall(data[fn.start_byte : body.start_byte if body else fn.end_byte])
    return _Found(fn, found[0], found[1]) if found else _Found(fn, name)


def _shadow_definition(shadow: recover.Shadow, fn: Node) -> _Found:
    body = fn.child_by_field_name("body")
    header = shadow.headers.get(body.start_byte) if body is not None else None
    reasons = [header.reason] if header is not None else []
    if shadow.resolved and header is None:
        reasons.append("#if arms")
    name = _declarator_name(shadow.data, fn.child_by_field_name("declarator")) or ""
    aliases = header.aliases if header is not None else ()
    return _Found(fn, name, aliases, "; ".join(reasons), shadow.data)


def function_names(parsed: ParsedFile) -> list[str]:
    """Names of all functions defined in the file, in file order (duplicates kept)."""
    return [f.name for f in _definitions(parsed)]


def error_span(data: bytes, node: Node) -> ErrorSpan:
    return ErrorSpan(
        kind="MISSING" if node.is_missing else "ERROR",
        start_line=node.start_point.row + 1,
        end_line=node.end_point.row + 1,
        start_byte=node.start_byte,
        end_byte=node.end_byte,
        text=node_text(data, node),
    )


def _function_def(parsed: ParsedFile, found: _Found) -> FunctionDef:
    data, fn = parsed.data, found.node
    body = fn.child_by_field_name("body")
    sig_end = body.start_byte if body is not None else fn.end_byte
    start = recover.header_start(data, fn.start_byte, sig_end)
    return FunctionDef(
        name=found.name,
        signature=data[start:sig_end].decode("utf-8", errors="replace").rstrip(),
        start_line=data.count(b"\n", 0, start) + 1
        if start != fn.start_byte
        else fn.start_point.row + 1,
        end_line=fn.end_point.row + 1,
        start_byte=start,
        end_byte=fn.end_byte,
        text=data[start : fn.end_byte].decode("utf-8", errors="replace"),
        errors=tuple(error_span(data, n) for n in error_nodes(fn)),
        node=fn,
        body=body,
        aliases=found.aliases,
        recovered=found.recovered,
        source=found.source,
    )


def find_functions(parsed: ParsedFile, name: str) -> list[FunctionDef]:
    """Every definition of ``name`` (or of a kernel symbol it is known by, e.g.
    ``sys_move_pages``) in file order (``#ifdef``/``#else`` arms give several)."""
    return [
        _function_def(parsed, f)
        for f in _definitions(parsed, name)
        if f.name == name or name in f.aliases
    ]


def all_functions(parsed: ParsedFile) -> list[FunctionDef]:
    """Every named function definition in the file, in file order."""
    return [_function_def(parsed, f) for f in _definitions(parsed)]


def closest_names(parsed: ParsedFile, name: str, n: int = 3) -> list[str]:
    names = sorted(set(function_names(parsed)))
    return difflib.get_close_matches(name, names, n=n, cutoff=0.5)


def unparseable_definition(parsed: ParsedFile, name: str) -> tuple[int, list[ErrorSpan]] | None:
    """When ``name`` is not a parsed definition but is an identifier inside a top-level ERROR
    node (outside every function definition: a definition tree-sitter could not make sense of),
    its first line and the ERROR/MISSING spans from there to the end of that broken region."""
    root = parsed.tree.root_node
    if not root.has_error:
        return None
    target = name.encode()
    errors = [n for n in error_nodes(root) if not _inside_definition(n)]
    for index, node in enumerate(errors):
        ident = _find_identifier(parsed.data, node, target)
        if ident is not None:
            spans = [error_span(parsed.data, n) for n in errors[index:]]
            return ident.start_point.row + 1, spans[:5]
    return None


def _inside_definition(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type == "function_definition":
            return True
        parent = parent.parent
    return False


def _find_identifier(data: bytes, node: Node, name: bytes) -> Node | None:
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.type == "identifier" and data[cur.start_byte : cur.end_byte] == name:
            return cur
        stack.extend(reversed(cur.children))
    return None


def require_function(parsed: ParsedFile, name: str, where: str) -> list[FunctionDef]:
    """Like :func:`find_functions` but a missing function is a :class:`KvdiffError`.

    ``where`` names the file for the message, e.g. ``"mm/rmap.c at v5.1"``.
    """
    found = find_functions(parsed, name)
    if found:
        return found
    broken = unparseable_definition(parsed, name)
    if broken is not None:
        line, spans = broken
        shown = ", ".join(
            f"{e.kind} at line {e.start_line}"
            if e.start_line == e.end_line
            else f"{e.kind} at lines {e.start_line}-{e.end_line}"
            for e in spans
        )
        raise KvdiffError(
            f"function {name} is in {where} (line {line}) but tree-sitter cannot parse it "
            f"({shown}), so it cannot be analysed; an unknown macro or an unbalanced "
            "#if may be the cause"
        )
    close = closest_names(parsed, name)
    hint = f"closest: {', '.join(close)}" if close else "no similarly named function there"
    raise KvdiffError(
        f"function {name} not found in {where}; {hint} "
        "(check the name, or pass --file for the file that defines it)"
    )
