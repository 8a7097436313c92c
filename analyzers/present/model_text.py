"""The reference model's words in the reader's language.

The model (``analyzers/model/``) reports facts as data plus one English sentence per fact (a side
effect, the next fault, why a scenario does not apply, a decoded PTE). Its English sentence is the
message id, as in gettext: the numbers in it (line numbers, PFNs, counts, tags) are taken out, the
rest is looked up in the ``[model]`` table of ``i18n/<lang>.toml``, and the numbers are put back
into the translation (``{0}``, ``{1}``… in the order they appear in the English text). A decoded
PTE (``swap(type 0, offset 0x1a2b)``) is a small fixed grammar translated word by word from the
``[words]`` table. English, and any sentence the table does not know yet, are shown unchanged; the
browser test fails on Korean pages that still carry English model prose.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

# Numbers the model interpolates: hex values first, then decimals (tags split into their parts).
NUMBER = re.compile(r"0x[0-9a-fA-F]+|\d+")
_WORD = re.compile(r"\+?[A-Za-z][A-Za-z-]*")


def message_key(text: str) -> str:
    """The message id of a model sentence: its numbers replaced by ``{}``."""
    return NUMBER.sub("{}", text)


@dataclass(frozen=True)
class ModelText:
    """Translator of model output for one language (identity for English)."""

    lang: str
    messages: dict[str, str] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)

    def message(self, text: str) -> str:
        """A model sentence (side effect, next fault, not-applicable reason) in ``lang``."""
        if not text or not self.messages:
            return text
        template = self.messages.get(message_key(text))
        if template is None:
            return text
        return template.format(*NUMBER.findall(text))

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
    path = resources.files("kvdiff.analyzers.present").joinpath("i18n", f"{lang}.toml")
    data = tomllib.loads(path.read_bytes().decode("utf-8"))
    return ModelText(lang, dict(data.get("model", {})), dict(data.get("words", {})))
