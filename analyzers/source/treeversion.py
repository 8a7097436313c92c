"""Which kernel version a tree is, from its top-level Makefile.

Vendor trees tag their releases with names that are no versions (``msm-3.4``,
``wild/oppo-msm-4.19.110``), and a ``--repo`` branch or commit has no version in its name at
all. The kernel's own Makefile says which release a tree is::

    VERSION = 4
    PATCHLEVEL = 19
    SUBLEVEL = 110
    EXTRAVERSION =

Old 2.6 stable trees kept the stable number in EXTRAVERSION (``SUBLEVEL = 22``,
``EXTRAVERSION = .15`` is 2.6.22.15), and release candidates carry ``-rcN``. Anything else in
EXTRAVERSION (``-rt13``, ``-perf``) is a local suffix and does not change the version.
"""

from __future__ import annotations

import re

# Only the first lines matter: the four assignments open every kernel Makefile (after the SPDX
# line in newer ones); a cap keeps a hostile file cheap.
_HEAD_BYTES = 4096
_ASSIGN = re.compile(
    rb"^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)[ \t]*:?=[ \t]*(\S*)[ \t]*\r?$", re.M
)
_NUMBER = re.compile(r"\d{1,6}\Z")
_STABLE_EXTRA = re.compile(r"\.(\d{1,6})")
_RC_EXTRA = re.compile(r"-rc(\d{1,6})")


def makefile_version(data: bytes) -> str | None:
    """``v4.19.110``, ``v5.17-rc5``, ``v2.6.22.15`` or ``v4.18`` (SUBLEVEL 0) from a Makefile's
    bytes; None when VERSION and PATCHLEVEL are not plain numbers."""
    values: dict[str, str] = {}
    for m in _ASSIGN.finditer(data[:_HEAD_BYTES]):
        values.setdefault(m.group(1).decode(), m.group(2).decode("ascii", "replace"))
    major, minor = values.get("VERSION", ""), values.get("PATCHLEVEL", "")
    if not (_NUMBER.match(major) and _NUMBER.match(minor)):
        return None
    parts = [str(int(major)), str(int(minor))]
    sub = values.get("SUBLEVEL", "")
    extra = values.get("EXTRAVERSION", "")
    stable = _STABLE_EXTRA.match(extra)
    if _NUMBER.match(sub) and (int(sub) or stable):
        parts.append(str(int(sub)))
    if stable:
        parts.append(str(int(stable.group(1))))
    rc = _RC_EXTRA.match(extra)
    return "v" + ".".join(parts) + (f"-rc{int(rc.group(1))}" if rc else "")
