"""What the next fault on the address does with the PTE try_to_unmap_one() left behind.

A small model of do_swap_page() and its neighbours at each tag (mm/memory.c, mm/migrate.c in the
corpus; 2.6.7's mm/memory.c is not in the corpus, see ``_V2_6_7``).
"""

from __future__ import annotations

from .encoding import Decoded, check_tag

# (do_swap_page, non_swap_entry test, lookup_swap_cache, swap_free) lines in mm/memory.c, and
# (migration_entry_wait, remove_migration_pte) lines in mm/migrate.c.
_LINES = {
    "v2.6.35": {"dsp": 2624, "nse": 2639, "lookup": 2651, "free": 2734, "mew": 165, "rmp": 87},
    "v5.1": {"dsp": 2678, "nse": 2693, "lookup": 2716, "free": 2848, "mew": 340, "rmp": 203},
    "v5.10.37": {"dsp": 3260, "nse": 3275, "lookup": 3293, "free": 3439, "mew": 344, "rmp": 205},
}
# 2.6.7: mm/memory.c is not in the corpus. Its do_swap_page() has the shape every 2.6 kernel
# shares (pte_to_swp_entry, lookup_swap_cache or read_swap_cache_async, swap_free, mk_pte);
# there are no non-swap entry types to dispatch on (MAX_SWAPFILES is all 32 types).
_V2_6_7 = "do_swap_page() (2.6.7 mm/memory.c, not in the corpus)"


def next_fault(tag: str, decoded: Decoded, anon: bool) -> str:
    """One paragraph: what a later access to the address does with ``decoded``."""
    check_tag(tag)
    if decoded.kind == "present":
        return "No fault: the page is still mapped."
    if decoded.kind == "none":
        if anon:
            return (
                "The PTE is empty: the next touch takes do_anonymous_page() and gets a fresh "
                "zero-filled page (the MADV_FREE'd content was discarded on purpose)."
            )
        return (
            "The PTE is empty: the next touch faults the page back in from the page cache "
            "(the file page itself was never written into the PTE)."
        )
    if decoded.kind == "file":
        return "A nonlinear file PTE: do_file_page() re-reads the page at that file offset."
    if tag == "v2.6.7":
        if decoded.kind == "swap":
            return (
                f"{_V2_6_7}: finds the page in the swap cache via lookup_swap_cache(entry) "
                "(or reads it back with read_swap_cache_async), swap_free(entry), maps it again."
            )
        return f"{_V2_6_7}: 2.6.7 has no {decoded.kind} entries."
    ln = _LINES[tag]
    dsp = f"do_swap_page() (mm/memory.c:{ln['dsp']})"
    if decoded.kind == "swap":
        return (
            f"{dsp}: a real swap entry, so lookup_swap_cache(entry) (memory.c:{ln['lookup']}) "
            "finds the page if it is still in the swap cache, otherwise it is read back from "
            f"swap type {decoded.swap_type} offset {decoded.offset:#x}; swap_free(entry) "
            f"(memory.c:{ln['free']}) drops the count the unmap raised; the page is mapped again."
        )
    if decoded.kind == "migration":
        return (
            f"{dsp}: non_swap_entry() (memory.c:{ln['nse']}) and is_migration_entry(), so "
            f"migration_entry_wait() (mm/migrate.c:{ln['mew']}) sleeps on the page lock of pfn "
            f"{decoded.pfn:#x} until migration ends; remove_migration_pte() "
            f"(mm/migrate.c:{ln['rmp']}) has by then replaced the entry with a PTE for the new "
            "page (or the old one if migration failed), and the fault is retried: harmless, no "
            "swap I/O, no swap slot."
        )
    if decoded.kind == "hwpoison":
        return (
            f"{dsp}: is_hwpoison_entry(), so VM_FAULT_HWPOISON: the task gets SIGBUS for the "
            "poisoned page."
        )
    if decoded.kind == "device":
        how = (
            "device_private_entry_fault()"
            if tag == "v5.1"
            else "the pgmap's migrate_to_ram() callback"
        )
        return f"{dsp}: is_device_private_entry(), so {how} migrates the page back to RAM."
    return f"{dsp}: unexpected entry kind {decoded.kind}."
