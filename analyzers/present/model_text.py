"""The reference model's words in the reader's language.

The model (``analyzers/model/``) reports facts as data plus one English sentence per fact (a side
effect, the next fault, why a scenario does not apply, a decoded PTE). Its English sentence is the
message id, as in gettext: the numbers in it (line numbers, PFNs, counts, tags) are taken out, the
rest is looked up in the ``[model]`` table of ``i18n/<lang>.toml``, and the numbers are put back
into the translation (``{0}``, ``{1}``… in the order they appear in the English text). A decoded
PTE (``swap(type 0, offset 0x1a2b)``) is a small fixed grammar translated word by word from the
``[words]`` table. English, and any sentence the table does not know yet, are shown unchanged; the
browser test fails on Korean pages that still carry English model prose.

The derived model (``model/interp/``) composes its sentences from a few fixed shapes around code
and data: ``{helper}: the PTE is cleared ({file:line})``, ``assumed: {name}: {text}`` where the
text is an assumption stated in ``helpers.toml``. Those shapes are the ``[model_patterns]`` table:
an English key with named slots and its translation. A slot's name says what it holds (a trailing
digit tells two apart): ``name`` an identifier, ``code`` any source text, ``where`` a
``file:line``, ``num`` a number, ``value`` one token, all kept as they are; ``word`` a word
translated through ``[words]``; ``msg`` a model sentence, translated in turn (so an assumption's
text is looked up in ``[model]``).
"""

from __future__ import annotations

import re
from functools import cache

from kvdiff.analyzers.present.site.strings import i18n_table

# Numbers the model interpolates: hex values first, then decimals (tags split into their parts).
NUMBER = re.compile(r"0x[0-9a-fA-F]+|\d+")
_WORD = re.compile(r"\+?[A-Za-z][A-Za-z-]*")
_SLOT = re.compile(r"\{([a-z]+)(\d*)\}")
# What each kind of pattern slot matches.
_SLOT_RE = {
    "name": r"[A-Za-z_]\w*",
    "code": r".+?",
    "where": r"[^\s()]+:\d+(?:-\d+)?",
    "num": r"0x[0-9a-fA-F]+|\d+",
    "value": r"[^\s:]+",
    "word": r"[A-Za-z][\w-]*",
    "msg": r".+?",
}


def message_key(text: str) -> str:
    """The message id of a model sentence: its numbers replaced by ``{}``."""
    return NUMBER.sub("{}", text)


class ModelText:
    """Translator of model output for one language (identity for English). A plain class, not
    a dataclass: one per language and run, never compared, and a dataclass costs each run's
    start half a millisecond to define."""

    __slots__ = ("lang", "messages", "patterns", "words")

    def __init__(
        self,
        lang: str,
        messages: dict[str, str] | None = None,
        words: dict[str, str] | None = None,
        patterns: tuple[tuple[re.Pattern[str], str], ...] = (),
    ) -> None:
        self.lang = lang
        self.messages = messages if messages is not None else {}
        self.words = words if words is not None else {}
        self.patterns = patterns

    def message(self, text: str) -> str:
        """A model sentence (side effect, next fault, not-applicable reason) in ``lang``."""
        if not text or not (self.messages or self.patterns):
            return text
        template = self.messages.get(message_key(text))
        if template is not None:
            return template.format(*NUMBER.findall(text))
        for pattern, translation in self.patterns:
            m = pattern.fullmatch(text)
            if m:
                return translation.format(**{k: self._slot(k, v) for k, v in m.groupdict().items()})
        return text

    def _slot(self, slot: str, value: str) -> str:
        kind = slot.rstrip("0123456789")
        if kind == "msg":
            return self.message(value)
        if kind == "word":
            return self.words.get(value, value)
        return value

    def decoded(self, text: str) -> str:
        """A decoded PTE such as ``present(pfn 0x12345, W, dirty)`` in ``lang``."""
        if not self.words:
            return text
        return _WORD.sub(lambda m: self.words.get(m.group(0), m.group(0)), text)

    def kind(self, kind: str) -> str:
        """An outcome kind word (swap, migration, present, none…) in ``lang``."""
        return self.words.get(kind, kind) if kind else kind


@cache
def model_text(lang: str) -> ModelText:
    """The translator for ``lang`` (tables from ``analyzers/present/i18n/<lang>.toml``)."""
    data = i18n_table(lang)
    patterns = tuple(
        (compile_pattern(key), value) for key, value in dict(data.get("model_patterns", {})).items()
    )
    return ModelText(lang, dict(data.get("model", {})), dict(data.get("words", {})), patterns)


def compile_pattern(key: str) -> re.Pattern[str]:
    """The regular expression of a ``[model_patterns]`` key: literal text around named slots."""
    parts, end = [], 0
    for m in _SLOT.finditer(key):
        kind = m.group(1)
        if kind not in _SLOT_RE:
            raise ValueError(f"model pattern {key!r}: unknown slot {{{m.group(0)}}}")
        parts.append(re.escape(key[end : m.start()]))
        parts.append(f"(?P<{kind}{m.group(2)}>{_SLOT_RE[kind]})")
        end = m.end()
    parts.append(re.escape(key[end:]))
    return re.compile("".join(parts), re.S)
