"""Every tag of a history to its blob and that blob's summary, on every core.

A history resolves thousands of tags (tag -> tree -> ``path``: a blob id, no blob read), then
summarises each distinct blob once. Resolving a tag costs as much as reusing a summary, so the
two run together in :mod:`.blobwork`'s workers: each takes tags one at a time, resolves it,
and summarises the blobs it has not met yet and the result cache does not hold. A blob two
workers both meet is summarised by both (the summaries are equal); here the tags are put back
in order, the distinct summaries counted once, and the new ones added to the cache's entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from kvdiff.analyzers.analyze.blobwork import Emit, Job, run_claimed, share, summarize_in_order
from kvdiff.analyzers.analyze.resultcache import ResultCache, make_key
from kvdiff.analyzers.analyze.summaries import BlobSummaries, BlobSummary, Summarizer, TagBlob
from kvdiff.analyzers.analyze.summarybundle import Bundle
from kvdiff.analyzers.errors import DamagedTag

# What a stream emits per tag: (blob id, tag class, summary, damage). The summary is None when
# the blob is known otherwise (the cache holds it, or this stream emitted it already) or when
# the tree lacks the file (blob id None); damage is the DamagedTag resolving the tag raised.
Record = tuple[str | None, str, BlobSummary | None, DamagedTag | None]

BlobOf = Callable[[str], str | None]  # tag -> blob id of the file (None: not in the tree)
Read = Callable[[str, str], bytes | None]  # (tag, blob id) -> the blob's bytes


def summarize_tags(
    tags: Sequence[tuple[str, str]],
    path: str,
    blob_of: BlobOf,
    read: Read,
    summarizer: Summarizer,
    cache: ResultCache | None = None,
) -> tuple[list[TagBlob], BlobSummaries, list[DamagedTag]]:
    """The tags (``(tag, origin)`` in order) with their blob ids, the summary of each that has
    the file, and the tags whose trees could not be read (left out of the first two).

    ``read`` is called once per distinct (blob, tag class) the result cache lacks, by each
    worker meeting it, never per tag."""
    cache = cache or ResultCache(None)
    # One entry holds every blob summary of this function and summarizer: a history of
    # hundreds of blobs writes one file, not hundreds (creating files is what a cold run's
    # disk time went to).
    bundle_key = make_key("history-blobs", summarizer.function, summarizer.digest)
    bundle = Bundle.load(cache.get(bundle_key))

    def known(slot: tuple[str, str]) -> bool:
        return bundle.get(make_key(*slot)) is not None

    def stream(indices: Iterable[int], emit: Emit) -> None:
        _tag_stream(summarizer, tags, path, blob_of, read, known, indices, emit)

    shared: dict[Any, Any] = {}
    records: list[Record] = run_claimed(len(tags), stream, lambda r: _settled(shared, r))
    tag_blobs, stats, damaged = _in_order(tags, records, bundle)
    if stats.analysed:
        cache.put(bundle_key, bundle.to_json())
    return tag_blobs, stats, damaged


def _in_order(
    tags: Sequence[tuple[str, str]], records: Sequence[Record], bundle: Bundle
) -> tuple[list[TagBlob], BlobSummaries, list[DamagedTag]]:
    """The workers' records put back in tag order, each distinct summary counted once; the
    new ones are added to ``bundle`` (in the order of their first tags)."""
    # A worker going backwards meets a blob first at its last tag: the summaries it made are
    # gathered before the tags are put in order.
    computed: dict[tuple[str, str], BlobSummary] = {}
    for blob_id, tag_class, summary, _ in records:
        if summary is not None and blob_id is not None:
            computed.setdefault((blob_id, tag_class), summary)
    tag_blobs: list[TagBlob] = []
    damaged: list[DamagedTag] = []
    summaries: dict[tuple[str, str], BlobSummary] = {}  # (blob id, tag class) -> summary
    by_tag: dict[str, BlobSummary] = {}
    for (tag, origin), (blob_id, tag_class, _, damage) in zip(tags, records, strict=True):
        if damage is not None:
            damaged.append(damage)
            continue
        tag_blobs.append(TagBlob(tag=tag, origin=origin, blob_id=blob_id))
        if blob_id is None:
            continue
        slot = (blob_id, tag_class)
        if slot not in summaries:
            found = computed.get(slot)
            if found is not None:
                bundle.add(make_key(*slot), found)
            else:
                found = bundle.get(make_key(*slot))
                if found is None:  # pragma: no cover - the workers read the same entry
                    raise RuntimeError(f"the summary of blob {blob_id} at {tag} went missing")
            summaries[slot] = found
        by_tag[tag] = summaries[slot]
    analysed = len(computed)
    stats = BlobSummaries(by_tag, len(summaries), analysed, len(summaries) - analysed)
    return tag_blobs, stats, damaged


def _settled(shared: dict[Any, Any], record: Record) -> Record:
    """A worker's record with the one copy of its tag class and summary parts."""
    blob_id, tag_class, summary, damage = record
    tag_class = shared.setdefault(tag_class, tag_class)
    return blob_id, tag_class, share(shared, summary) if summary else None, damage


def _tag_stream(
    summarizer: Summarizer,
    tags: Sequence[tuple[str, str]],
    path: str,
    blob_of: BlobOf,
    read: Read,
    known: Callable[[tuple[str, str]], bool],
    indices: Iterable[int],
    emit: Emit,
) -> None:
    """Resolve each tag of ``indices``; summarise (in order of taking) the blobs met first."""
    met: set[tuple[str, str]] = set()
    pending: list[tuple[int, str, str]] = []  # the tag whose blob is being summarised

    def jobs() -> Iterator[Job]:
        for i in indices:
            tag, origin = tags[i]
            try:
                blob_id = blob_of(tag)
            except DamagedTag as exc:
                emit(i, (None, "", None, exc))
                continue
            if blob_id is None:
                emit(i, (None, "", None, None))
                continue
            slot = (blob_id, summarizer.tag_class(tag))
            if slot in met or known(slot):
                met.add(slot)
                emit(i, (*slot, None, None))
                continue
            met.add(slot)
            data = read(tag, blob_id)
            if data is None:
                raise LookupError(f"blob {blob_id} of {path} at {tag} cannot be read")
            pending.append((i, *slot))
            yield tag, path, blob_id, origin, data

    for summary in summarize_in_order(summarizer, jobs()):
        i, blob_id, tag_class = pending.pop()
        emit(i, (blob_id, tag_class, summary, None))
