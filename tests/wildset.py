"""The wild dev set (../shared/kernel-wild): my judgement of every tree's concepts, and a table.

``JUDGED`` records, for each of the 19 real ``mm/rmap.c`` trees, where each concept of the
try_to_unmap_one rules is, judged by reading the code (not by running kvdiff): the first line of
each arm that holds the concept, ``concept=LINES`` for arms of try_to_unmap_one, ``concept>LINES``
for arms of try_to_migrate_one (the concept moved there). A concept not listed is absent from the
tree. The comments quote the line that decides a judgement.

Run it to print the per-concept detection table on the wild dev set::

    .venv/bin/python tests/wildset.py [WILD_DIR]
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from kvdiff.analyzers.analyze.analysis import Analysis, analyze_source
from kvdiff.analyzers.analyze.ruleset import load_rule_set
from kvdiff.analyzers.source.repo import SourceFile

RULES = load_rule_set()

# fmt: off
JUDGED = {
    # :536 `(vma->vm_flags & (VM_LOCKED|VM_RESERVED)) || ptep_clear_flush_young(...)` is both;
    # :557 the gup page_count test; :571 PageAnon stores the swap entry; `mm->rss--` after it
    # counts file pages too, so there is no file arm (else dec_mm_counter came with 2.6.15)
    "hassebj-2.6.9": "mlock=536 young=536 gup=557 anon=571 swapcache=571",
    # :566 `!migration && ((vma->vm_flags & VM_LOCKED) || (ptep_clear_flush_young(...)))`;
    # :586 PageSwapCache; :600 `#ifdef CONFIG_MIGRATION } else {` makes the anon migration
    # entry, `} else` :612 + `if (migration)` :614 the file one (an `else if` once the #ifdef is
    # resolved); the final `else dec_mm_counter(mm, file_rss)` is reached through `} else` at
    # :612 (CONFIG_MIGRATION=n) or :619 (=y)
    "laitianli-2.6.18":
        "mlock=566 young=566 migration=600,612|614 anon=583 swapcache=586 file=612|619",
    # the same code as 2.6.18, 110 lines further down
    "keenetic-tc-2.6.22.15":
        "mlock=676 young=676 migration=710,722|724 anon=693 swapcache=696 file=722|729",
    # :781 VM_LOCKED and :785 ptep_clear_flush_young_notify split; :818 `else if
    # (PAGE_MIGRATION)` inside PageAnon, :829 `else if (PAGE_MIGRATION && migration)`; :834 else
    "s5pc100-2.6.29.4": "mlock=781 young=785 migration=818,829 anon=802 swapcache=805 file=834",
    # :1019 `PageHWPoison(page) && !(flags & TTU_IGNORE_HWPOISON)` (2.6.32 on)
    "allwinner-2.6.36":
        "mlock=995 young=1002 hwpoison=1019 migration=1047,1058 anon=1026 swapcache=1029 file=1063",
    "msm8960-3.0.8": "mlock=1189 young=1196 hwpoison=1213 migration=1241,1252 "
        "anon=1220 swapcache=1223 file=1257",
    # :1257 `else if (IS_ENABLED(CONFIG_MIGRATION))` replaces PAGE_MIGRATION
    "golden-3.4.5": "mlock=1205 young=1212 hwpoison=1229 migration=1257,1268 "
        "anon=1236 swapcache=1239 file=1274",
    "famhub-3.10.30": "mlock=1209 young=1216 hwpoison=1233 migration=1265,1276 "
        "anon=1242 swapcache=1245 file=1282",
    # :1191 `else if (pte_unused(pteval))` (3.15 on)
    "rpi2rt-3.18.11": "mlock=1158 young=1165 hwpoison=1182 guest_unused=1191 migration=1223,1237 "
                      "anon=1201 swapcache=1205 file=1243",
    "mlpzaq-4.2.8": "mlock=1208 young=1215 hwpoison=1232 guest_unused=1241 migration=1273,1286 "
                    "anon=1251 swapcache=1255 file=1292",
    # :1566 one migration arm before PageAnon (4.5 on); :1588 MADV_FREE as
    # `!PageDirty(page) && (flags & TTU_LZFREE)`; no separate PageSwapCache arm any more
    "tina-v3s-4.9.118": "mlock=1505 young=1521 hwpoison=1551 guest_unused=1559 migration=1566 "
                        "anon=1579 lazyfree=1588 swapcache=1579 file=1612",
    # :1413 `IS_ENABLED(CONFIG_MIGRATION) && (flags & TTU_MIGRATION) && is_zone_device_page(page)`
    # (4.14 on); :1545 `!PageSwapBacked(page)` (4.12 on)
    "rt-4.18": "mlock=1389 young=1439 device_migration=1413 hwpoison=1472 guest_unused=1485 "
               "migration=1500 anon=1527 lazyfree=1545 swapcache=1527 file=1592",
    "oppo-msm-4.19.110": "mlock=1477 young=1561 device_migration=1527 hwpoison=1594 "
                         "guest_unused=1607 migration=1622 anon=1649 lazyfree=1667 "
                         "swapcache=1649 file=1714",
    # no ptep_clear_flush_young test: 013339df116c backported to 5.10.y
    "rockchip-5.10.107": "mlock=1463 device_migration=1520 hwpoison=1585 guest_unused=1597 "
                         "migration=1612 anon=1641 lazyfree=1659 swapcache=1641 file=1708",
    # try_to_migrate_one (a98a2f0c8ce1): :1806 `if (is_zone_device_page(page))`, :1867 the
    # final `else` makes the entry (its `if (pte_write(pteval))` only picks the kind)
    "faascale-5.14.2": "mlock=1443 device_migration>1806 hwpoison=1524 guest_unused=1536 "
                       "migration>1867 anon=1551 lazyfree=1569 swapcache=1551 file=1618",
    # :1838 the device arm now has its own `if (is_writable_device_private_entry(entry))`
    # sub-branches: they belong to the device arm, not to migration (:1903 else)
    "dunli-5.17-rc5": "mlock=1475 device_migration>1838 hwpoison=1556 guest_unused=1568 "
                      "migration>1903 anon=1583 lazyfree=1601 swapcache=1583 file=1650",
    # :1997 `if (folio_is_device_private(folio))`; :2059 else, with
    # make_readable_exclusive_migration_entry among its makers; :1651 folio_test_anon
    "c133-6.1.20": "mlock=1521 device_migration>1997 hwpoison=1626 guest_unused=1636 "
                   "migration>2059 anon=1651 lazyfree=1670 swapcache=1651 file=1766",
    "vivo50-6.8": "mlock=1672 device_migration>2139 hwpoison=1776 guest_unused=1787 "
                  "migration>2200 anon=1799 lazyfree=1815 swapcache=1799 file=1894",
    # no device arm: the device-private PTE only sets `writable` (6.15 rework); :2495 else
    # makes every migration entry, `if (writable) … else if (anon_exclusive) … else` inside
    "gfunkmonk-6.18.2": "mlock=1917 hwpoison=2081 guest_unused=2091 migration>2495 anon=2104 "
                        "lazyfree=2118 swapcache=2104 file=2208",
}
# fmt: on


def judged(tree: str) -> dict[str, tuple[str, tuple[frozenset[int], ...]]]:
    """concept -> (state, one set of acceptable first lines per arm) for ``tree``; concepts not
    listed map to ("absent", ())."""
    out: dict[str, tuple[str, tuple[frozenset[int], ...]]] = {
        c: ("absent", ()) for c in RULES.concept_ids
    }
    for item in JUDGED[tree].split():
        sep = ">" if ">" in item else "="
        concept, lines = item.split(sep)
        arms = tuple(frozenset(int(x) for x in arm.split("|")) for arm in lines.split(","))
        out[concept] = ("moved" if sep == ">" else "present", arms)
    return out


def manifest(wild: Path) -> dict[str, tuple[str, str]]:
    """tree id -> (its version-shaped tag, the version its Makefile declares)."""
    rows = (wild / "MANIFEST.tsv").read_text().splitlines()
    header = rows[0].split("\t")
    out = {}
    for line in rows[1:]:
        rec = dict(zip(header, line.split("\t"), strict=False))
        if rec.get("path") == "mm/rmap.c":
            out[rec["id"]] = (rec["kvdiff_tag"], rec["version"])
    return out


@cache
def analysis(wild: Path, tree: str) -> Analysis:
    tag = manifest(wild)[tree][0]
    data = (wild / tree / "mm" / "rmap.c").read_bytes()
    return analyze_source(SourceFile(tag, "mm/rmap.c", "0" * 40, "wild", data), RULES)


def detected(a: Analysis, concept: str) -> tuple[str, tuple[int, ...]]:
    """(present/moved/absent, first lines of the hits) as kvdiff sees ``concept``."""
    status = a.concept(concept)
    state = {"present": "present", "moved": "moved", "unexpected": "present"}.get(
        status.state, "absent"
    )
    return state, tuple(h.start_line for h in status.hits)


def agrees(want: tuple[str, tuple[frozenset[int], ...]], got: tuple[str, tuple[int, ...]]) -> bool:
    state, arms = want
    return (
        state == got[0]
        and len(arms) == len(got[1])
        and all(line in arm for arm, line in zip(arms, got[1], strict=True))
    )


def table(wild: Path) -> str:
    """Per concept: trees where I judged it there (present or moved) and where kvdiff found it at
    the same arms; trees judged absent and where kvdiff agrees."""
    rows = [
        "| concept | judged there | detected at the judged arms | judged absent | agreed absent |",
        "|---|---|---|---|---|",
    ]
    totals = [0, 0, 0, 0]
    for concept in RULES.concept_ids:
        counts = [0, 0, 0, 0]
        for tree in JUDGED:
            want = judged(tree)[concept]
            ok = agrees(want, detected(analysis(wild, tree), concept))
            col = 0 if want[0] != "absent" else 2
            counts[col] += 1
            counts[col + 1] += ok
        totals = [t + c for t, c in zip(totals, counts, strict=True)]
        rows.append(f"| {concept} | {' | '.join(str(c) for c in counts)} |")
    rows.append(f"| all | {' | '.join(str(c) for c in totals)} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    default = Path(__file__).resolve().parent.parent.parent / "shared" / "kernel-wild"
    print(table(Path(sys.argv[1]) if len(sys.argv) > 1 else default), end="")
