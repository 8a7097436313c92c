"""Byte identity: every command's output on the corpus equals the committed digests.

The outputs (text, ``--json``, JUnit, whole sites, error lines and exit codes) are produced by
``tests/outputs_snapshot.py``; ``fixtures/outputs.sha256`` was first generated from the layout
baseline c26f811 (``outputs_snapshot.py run OUT --rev c26f811``) and matched it byte for byte.
An intentional output change updates the list with ``python tests/outputs_snapshot.py update``
(see ARCHITECTURE.md) and says so in its commit message.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import outputs_snapshot  # noqa: E402

pytestmark = pytest.mark.corpus


def test_every_output_matches_the_committed_digests(corpus: Path, tmp_path: Path) -> None:
    want = outputs_snapshot.parse_digests(outputs_snapshot.DIGESTS.read_text())
    got = outputs_snapshot.snapshot_current(tmp_path / "out")
    diff = outputs_snapshot.differences(want, got)
    assert not diff, (
        "outputs differ from fixtures/outputs.sha256 (if intended, run "
        "`python tests/outputs_snapshot.py update`):\n" + "\n".join(diff)
    )


def test_the_comparison_notices_a_changed_byte(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        (d / "site").mkdir(parents=True)
        (d / "site" / "index.html").write_text("<p>same</p>")
        (d / "show.txt").write_text("1 line\n")
    (b / "show.txt").write_text("1 line \n")
    (b / "extra.json").write_text("{}")
    assert outputs_snapshot.differences(
        outputs_snapshot.digests(a), outputs_snapshot.digests(b)
    ) == ["new:     extra.json", "changed: show.txt"]
    assert outputs_snapshot.main(["compare", str(a), str(a)]) == 0
    assert outputs_snapshot.main(["compare", str(a), str(b)]) == 1
