"""One `kvdiff report` run: from a validated request and the sources to the site's pages.

This is the orchestration the CLI must not hold: which tags and pairs, which rule set (if any)
covers the function, whether the reference model does, reading each tag's file, analysing it, and
running the model. :func:`.present.site.build.build_site` then lays the results out as pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kvdiff.analyzers.analyze.resultcache import make_key
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.jobs.collector import collection_paused
from kvdiff.analyzers.present.site.strings import LANGS, load_strings
from kvdiff.analyzers.versions import closest_tags, split_list

# The page builders (tree-sitter, the highlighter, the diff engine) load only when a site is
# built: a repeated report served from the site cache needs none of them.
if TYPE_CHECKING:
    from kvdiff.analyzers.analyze.resultcache import ResultCache
    from kvdiff.analyzers.analyze.ruleset import RuleSet
    from kvdiff.analyzers.compare.timeline import History
    from kvdiff.analyzers.parse.cparse import ParsedFile
    from kvdiff.analyzers.present.site.code import LineStore
    from kvdiff.analyzers.present.site.inputs import (
        FunctionSpan,
        PageAnalysis,
        SiteInputs,
        TagInput,
    )
    from kvdiff.analyzers.present.site.views import Site
    from kvdiff.analyzers.source.repo import SourceFile, Sources

DEFAULT_TAGS = ("v2.6.7", "v2.6.35", "v5.1", "v5.10.37")
DEFAULT_FUNCTION = "try_to_unmap_one"
# The file assumed when no rule set names one for the function.
DEFAULT_PATH = "mm/rmap.c"


def parse_pair(spec: str) -> tuple[str, str]:
    """``A..B`` into ``(A, B)``; anything else is a one-line KvdiffError."""
    a, sep, b = spec.partition("..")
    if not sep or not a or not b or a == b:
        raise KvdiffError(
            f"--pairs {spec!r} is not of the form A..B with two different tags; "
            "write e.g. --pairs v2.6.35..v5.10.37"
        )
    return a, b


@dataclass(frozen=True)
class ReportRequest:
    """What to report on. ``pairs`` are the diff pages beyond each consecutive pair of ``tags``;
    ``path`` None means the file the function's rule set names (else :data:`DEFAULT_PATH`)."""

    tags: tuple[str, ...] = DEFAULT_TAGS
    function: str = DEFAULT_FUNCTION
    path: str | None = None
    pairs: tuple[tuple[str, str], ...] = ()
    lang: str = "en"
    history: bool = False  # add history.html: every version over all the tags the sources hold
    # The same site in more languages (``--lang en,ko``): pages NAME.<lang>.html, and a language
    # switch on every page of every language.
    other_langs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.tags:
            raise KvdiffError("no tags to report on; pass --tags, e.g. --tags v5.1,v5.10.37")
        for lang in (self.lang, *self.other_langs):
            if lang not in LANGS:
                raise KvdiffError(
                    f"unknown language {lang!r}; use one of: {', '.join(LANGS)} "
                    "(or several, comma-separated: --lang en,ko)"
                )
        if len({self.lang, *self.other_langs}) != 1 + len(self.other_langs):
            raise KvdiffError(
                f"--lang {','.join((self.lang, *self.other_langs))} names a language twice; "
                "name each once, e.g. --lang en,ko"
            )
        for a, b in self.pairs:
            for tag in (a, b):
                if tag not in self.tags:
                    close = closest_tags(tag, list(self.tags))
                    hint = f" (closest: {', '.join(close)})" if close else ""
                    raise KvdiffError(
                        f"--pairs {a}..{b}: {tag} is not one of the report's tags{hint}; "
                        "add it to --tags or fix the pair"
                    )

    @classmethod
    def from_options(
        cls,
        tags: Iterable[str] = (),
        function: str = DEFAULT_FUNCTION,
        path: str | None = None,
        pairs: Iterable[str] = (),
        lang: str = "en",
        history: bool = False,
    ) -> ReportRequest:
        """A request from the command line's raw values (``--tags a,b --pairs A..B …``)."""
        langs = split_list([lang], "--lang") or ("en",)
        return cls(
            tags=split_list(tags, "--tags") or DEFAULT_TAGS,
            function=function,
            path=path,
            pairs=tuple(parse_pair(spec) for spec in split_list(pairs, "--pairs")),
            lang=langs[0],
            history=history,
            other_langs=langs[1:],
        )

    @property
    def all_pairs(self) -> tuple[tuple[str, str], ...]:
        """Each consecutive pair of tags, then every other pair (older first), then the extra
        pairs not already among them: a diff page for any two reported tags is cheap."""
        out = list(zip(self.tags, self.tags[1:], strict=False))
        for i, a in enumerate(self.tags):
            for b in self.tags[i + 2 :]:
                out.append((a, b))
        for pair in self.pairs:
            if pair not in out:
                out.append(pair)
        return tuple(out)


def _model_outcomes(
    function: str, path: str, tags: Iterable[str], sources: Sources
) -> dict[str, tuple]:
    """Every scenario's outcome at each tag, from the model derived from that tag's source, when
    the model covers the function at all (the model package declares which function that is).
    A tag whose header facts cannot be had (a header missing from its tree, or no evaluator for
    it yet) gets no model panels."""
    from kvdiff.analyzers.analyze.resultcache import ResultCache, default_result_dir
    from kvdiff.analyzers.jobs.modelcache import tag_outcomes
    from kvdiff.analyzers.model import MODEL_TARGET, ModelConfig

    if (function, path) != tuple(MODEL_TARGET):
        return {}
    cache = ResultCache(default_result_dir(sources.config.cache))
    out: dict[str, tuple] = {}
    for info in sources.ensure_all(list(tags)):
        found = tag_outcomes(sources, info, ModelConfig(), cache, missing_facts_ok=True)
        if found is not None:
            out[info.tag] = found
    return out


def _model_paths(function: str, path: str, results: ResultCache) -> tuple[str, ...]:
    """The files the model's facts read at a tag (none when the model does not cover the
    function), for the one batch of fetches. They are a table of the model package, but
    importing it costs a warm report more than the rest of its start: the list is kept in
    the result cache, keyed by the package digest."""
    from kvdiff.analyzers.jobs.sitecache import package_digest
    from kvdiff.analyzers.model import MODEL_TARGET

    if (function, path) != tuple(MODEL_TARGET):
        return ()
    key = make_key("model-fact-paths", f"kvdiff={package_digest()}")
    found = results.get(key)
    paths = found.get("paths") if found is not None else None
    if isinstance(paths, list) and paths and all(isinstance(p, str) for p in paths):
        return tuple(paths)
    from kvdiff.analyzers.model.interp.facts import fact_paths

    results.put(key, {"paths": list(fact_paths())})
    return fact_paths()


def _model_note(function: str, path: str, modelled: bool, strings: Mapping[str, str]) -> str:
    """Why the site has no model panels ("" when some tag has them)."""
    from kvdiff.analyzers.model import MODEL_TAGS, MODEL_TARGET

    model_function, model_path = MODEL_TARGET
    if (function, path) != tuple(MODEL_TARGET):
        return strings["no_model"].format(
            function=function, model_function=model_function, model_path=model_path
        )
    if not modelled:
        return strings["model_not_for_tags"].format(tags=", ".join(MODEL_TAGS))
    return ""


def function_span(
    source: SourceFile, function: str, parsed: ParsedFile | None = None
) -> FunctionSpan:
    """Where ``function`` is in ``source`` (its first definition), for a function no rule set
    analyses; a missing function is a one-line KvdiffError naming the closest names."""
    from kvdiff.analyzers.parse.cparse import parse_c
    from kvdiff.analyzers.parse.extract import require_function
    from kvdiff.analyzers.present.site.inputs import FunctionSpan

    parsed = parsed if parsed is not None else parse_c(source.data)
    defs = require_function(parsed, function, f"{source.path} at {source.tag}")
    fn = defs[0]
    return FunctionSpan(fn.start_line, fn.end_line, fn.signature, len(fn.errors), len(defs))


class _Rules:
    """Which rule set covers the report's function (its name and file, or None), kept in the
    result cache by the package digest (the rule files are package files): a report whose tags
    all come from the result cache neither imports the rule engine nor parses the rule set.
    :meth:`load` gives the rule set itself, parsed on first use."""

    def __init__(self, function: str, file_option: str | None, results: ResultCache) -> None:
        from kvdiff.analyzers.jobs.sitecache import package_digest

        self.function, self.file_option = function, file_option
        self._rules: RuleSet | None = None
        self._loaded = False
        key = make_key(
            "report-rules", f"kvdiff={package_digest()}", f"function={function}",
            f"file={file_option!r}",  # None (any file) is not ""
        )  # fmt: skip
        hit = results.get(key)
        found = hit.get("rules", "") if hit is not None else ""
        self.info: tuple[str, str] | None = None
        if found is None:
            return  # no rule set covers the function
        if isinstance(found, list) and len(found) == 2 and all(isinstance(x, str) for x in found):
            self.info = (found[0], found[1])
            return
        rules = self.load()
        self.info = (rules.target, rules.path) if rules is not None else None
        results.put(key, {"rules": list(self.info) if self.info else None})

    def load(self) -> RuleSet | None:
        from kvdiff.analyzers.analyze.ruleset import rules_for

        if not self._loaded:
            self._rules, self._loaded = rules_for(self.function, self.file_option), True
        return self._rules


def _tag_input(source: SourceFile, rules: _Rules, function: str, cached: _TagCache) -> TagInput:
    """One tag's file: from the result cache when a run before analysed the same file the
    same way, else parsed once (the analysis and the highlighting share the tree)."""
    from kvdiff.analyzers.present.site.inputs import TagInput

    found = cached.load(source)
    if found is not None:
        span, analysis, lines = found
        return TagInput(source, span, analysis=analysis, lines=lines)
    from kvdiff.analyzers.analyze.analysis import analyze_parsed
    from kvdiff.analyzers.parse.cparse import parse_c
    from kvdiff.analyzers.present.site.code import LineStore
    from kvdiff.analyzers.present.site.inputs import PageAnalysis, analysis_span

    parsed = parse_c(source.data)
    lines = LineStore(added=True)
    rule_set = rules.load() if rules.info is not None else None
    if rule_set is not None:
        analysis = analyze_parsed(source, parsed, rule_set, function)
        span, page = analysis_span(analysis), PageAnalysis.of(analysis)
        return TagInput(source, span, analysis=page, tree=parsed.tree, lines=lines)
    span = function_span(source, function, parsed)
    return TagInput(source, span, tree=parsed.tree, lines=lines)


class _TagCache:
    """The per-tag entries of one report (see :mod:`.reportcache`)."""

    def __init__(self, cache: ResultCache, function: str, file_option: str | None, rules: str):
        self.cache = cache
        self.function, self.file_option, self.rules = function, file_option, rules

    def _key(self, source: SourceFile) -> str:
        from kvdiff.analyzers.jobs.reportcache import tag_key

        return tag_key(source, self.function, self.file_option, self.rules)

    def load(
        self, source: SourceFile
    ) -> tuple[FunctionSpan, PageAnalysis | None, LineStore] | None:
        from kvdiff.analyzers.jobs.reportcache import load_entry

        return load_entry(self.cache, self._key(source))

    def store(self, inputs: Iterable[TagInput]) -> None:
        """Keep each input whose pages computed something new (a first run, more chunks)."""
        from kvdiff.analyzers.jobs.reportcache import entry_plain

        for inp in inputs:
            if inp.lines is not None and inp.lines.added:
                plain = entry_plain(inp.span, inp.analysis, inp.lines)
                self.cache.put(self._key(inp.source), plain)


def _history(
    request: ReportRequest, sources: Sources, function: str, path: str
) -> tuple[History | None, list[str]]:
    """With ``--history``: the timeline, and the first tags of its versions that are not among
    the report's tags (the history links them, so they get a page too)."""
    if not request.history:
        return None, []
    from kvdiff.analyzers.analyze.resultcache import default_result_dir
    from kvdiff.analyzers.compare.timeline import PRESENT
    from kvdiff.analyzers.jobs.history import build_history

    timeline = build_history(
        sources, function, path, result_dir=default_result_dir(sources.config.cache)
    )
    extra = [
        v.first_tag
        for v in timeline.versions
        if v.state == PRESENT and v.first_tag not in request.tags
    ]
    return timeline, extra


def build_report(request: ReportRequest, sources: Sources) -> Site:
    """Read, analyse and model every tag of ``request`` and lay the results out as a site."""
    from kvdiff.analyzers.analyze.resultcache import ResultCache, default_result_dir
    from kvdiff.analyzers.compare.linediff import diffs_cached_in
    from kvdiff.analyzers.present.annotations import load_annotations
    from kvdiff.analyzers.present.site.inputs import SiteInputs

    function = request.function
    results = ResultCache(default_result_dir(sources.config.cache))
    rules = _Rules(function, request.path, results)
    path = request.path or (rules.info[1] if rules.info is not None else DEFAULT_PATH)
    strings = load_strings(request.lang, results)
    rules_note = "" if rules.info is not None else strings["no_rules"].format(function=function)
    cached = _TagCache(results, function, request.path, ":".join(rules.info or ()))

    def tag_input(tag: str) -> TagInput:
        inp = _tag_input(sources.read(tag, path), rules, function, cached)
        return replace(inp, outcomes=outcomes.get(tag, ()))

    # One batch: commits and trees, then the files (with the files the model's facts read).
    sources.ensure_all(request.tags, [path, *_model_paths(function, path, results)])
    outcomes = _model_outcomes(function, path, request.tags, sources)
    model_note = _model_note(function, path, bool(outcomes), strings)
    inputs = [tag_input(tag) for tag in request.tags]
    timeline, extra_tags = _history(request, sources, function, path)
    outcomes.update(_model_outcomes(function, path, extra_tags, sources))
    extra_inputs = [tag_input(tag) for tag in extra_tags]

    annotations = load_annotations(function, cache=results)
    si = SiteInputs(
        function=function,
        path=path,
        inputs=inputs,
        pairs=request.all_pairs,
        strings=strings,
        lang=request.lang,
        annotations=annotations if annotations.source else None,
        rules_note=rules_note,
        model_note=model_note,
        history=timeline,
        extra_inputs=extra_inputs,
    )
    with diffs_cached_in(ResultCache(default_result_dir(sources.config.cache) / "diffs")):
        site = _with_translations(si, request.other_langs, results)
    cached.store([*inputs, *extra_inputs])  # what the pages highlighted, for the next run
    return site


def _with_translations(si: SiteInputs, langs: tuple[str, ...], results: ResultCache) -> Site:
    from kvdiff.analyzers.present.site.build import build_site

    site = build_site(si)
    if not langs:
        return site
    return replace(site, translations=tuple(_translated(si, lang, results) for lang in langs))


def _translated(si: SiteInputs, lang: str, results: ResultCache) -> Site:
    """The same site in another language: the same inputs, that language's words."""
    from kvdiff.analyzers.present.site.build import build_site

    strings = load_strings(lang, results)
    rules_note = strings["no_rules"].format(function=si.function) if si.rules_note else ""
    modelled = any(i.outcomes for i in si.inputs)
    model_note = _model_note(si.function, si.path, modelled, strings) if si.model_note else ""
    return build_site(
        replace(si, strings=strings, lang=lang, rules_note=rules_note, model_note=model_note)
    )


def report_pages(
    request: ReportRequest, sources: Sources, cached: bool = True
) -> tuple[dict[str, bytes], tuple[str, ...], Site | None]:
    """The site's files (name -> UTF-8 bytes), its warnings and the site (None when served from the
    cache): rendered, or, with ``cached`` and when every input of the report is unchanged
    since a run that rendered them, from the site cache (see :mod:`.sitecache`). The caller
    writes them with :func:`.present.sitewriter.publish`."""
    from kvdiff.analyzers.analyze.resultcache import default_result_dir
    from kvdiff.analyzers.jobs.sitecache import site_cache

    # The key takes --file as given: without it, the rule set (in the package digest) names
    # the file, so a cache hit needs neither the rule engine nor the parser.
    path = request.path or ""
    cache = None if request.history or not cached else site_cache(sources)
    key = _site_key(request, path, sources) if cache is not None else None
    if cache is not None and key is not None:
        hit = cache.get(key)
        if hit is not None:
            return hit[0], hit[1], None
    with collection_paused():
        # Imported in the pause too: its modules' classes and the templates' code are objects
        # the collector would only walk past.
        from kvdiff.analyzers.present.render import render_files

        site = build_report(request, sources)  # one batch fetches whatever is missing
        # Encoded once, for the site cache and the site writer alike.
        pages = render_files(site, default_result_dir(sources.config.cache) / "templates")
    if cache is not None:
        key = key or _site_key(request, path, sources)
        if key is not None:
            cache.put(key, pages, site.warnings)
    return pages, tuple(site.warnings), site


def _site_key(request: ReportRequest, path: str, sources: Sources) -> str | None:
    """The site cache key when every tag is at hand (None otherwise: nothing is fetched here,
    so a cold report still makes its one batch of fetches)."""
    from kvdiff.analyzers.jobs.sitecache import site_key

    infos = [sources.local_info(tag) for tag in request.tags]
    if any(info is None for info in infos):
        return None
    return site_key(request, path, [i for i in infos if i is not None])
