"""`kvdiff report`: write the annotated static site (thin: the work is in analyzers/)."""

from __future__ import annotations

from pathlib import Path

import click

from analyzers.annotations import load_annotations
from analyzers.errors import KvdiffError
from analyzers.render import LANGS, load_strings, write_site
from analyzers.site import TagInput, build_site
from analyzers.source import Sources
from analyzers.versions import closest_tags

from .options import source_options

DEFAULT_TAGS = ("v2.6.7", "v2.6.35", "v5.1", "v5.10.37")
MODEL_FUNCTION = ("try_to_unmap_one", "mm/rmap.c")


def _split(values: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for value in values:
        for part in value.replace(",", " ").split():
            if part not in out:
                out.append(part)
    return out


def _pair(spec: str, tags: list[str]) -> tuple[str, str]:
    a, sep, b = spec.partition("..")
    if not sep or not a or not b or a == b:
        raise KvdiffError(
            f"--pairs {spec!r} is not of the form A..B with two different tags; "
            "write e.g. --pairs v2.6.35..v5.10.37"
        )
    for tag in (a, b):
        if tag not in tags:
            close = closest_tags(tag, tags)
            hint = f" (closest: {', '.join(close)})" if close else ""
            raise KvdiffError(
                f"--pairs {spec}: {tag} is not one of the report's tags{hint}; "
                "add it to --tags or fix the pair"
            )
    return a, b


def _outcomes(function: str, path: str, tags: list[str]) -> dict[str, tuple]:
    if (function, path) != MODEL_FUNCTION:
        return {}
    from analyzers.model import MODEL_TAGS, SCENARIO_NAMES, run_scenario

    return {
        tag: tuple(run_scenario(tag, scenario) for scenario in SCENARIO_NAMES)
        for tag in tags
        if tag in MODEL_TAGS
    }


@click.command()
@click.option(
    "--tags",
    "tag_options",
    multiple=True,
    metavar="TAG[,TAG…]",
    help="Tags to report on, oldest first (repeatable; default: v2.6.7 v2.6.35 v5.1 v5.10.37).",
)
@click.option("--function", "function", default="try_to_unmap_one", show_default=True)
@click.option(
    "--file", "path", default=None, metavar="PATH", help="File defining it (default mm/rmap.c)."
)
@click.option(
    "--out",
    "out",
    default="site",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the site into.",
)
@click.option("--lang", type=click.Choice(LANGS), default="en", show_default=True)
@click.option(
    "--pairs",
    "pair_options",
    multiple=True,
    metavar="A..B",
    help="Extra diff pages beyond each consecutive pair (repeatable).",
)
@source_options
def report(
    tag_options: tuple[str, ...],
    function: str,
    path: str | None,
    out: Path,
    lang: str,
    pair_options: tuple[str, ...],
    sources: Sources,
) -> None:
    """Write the annotated static site (open OUT/index.html)."""
    from analyzers.analysis import analyze_source, load_rule_set
    from analyzers.ruleset import available_rule_sets

    tags = _split(tag_options) or list(DEFAULT_TAGS)
    pairs = list(zip(tags, tags[1:], strict=False))
    for spec in _split(pair_options):
        pair = _pair(spec, tags)
        if pair not in pairs:
            pairs.append(pair)

    rules = load_rule_set(function) if function in available_rule_sets() else None
    path = path or (rules.path if rules is not None else "mm/rmap.c")
    strings = load_strings(lang)
    if rules is not None and rules.path != path:
        rules = None
    rules_note = "" if rules is not None else strings["no_rules"].format(function=function)
    outcomes = _outcomes(function, path, tags)
    model_note = "" if outcomes else strings["no_model"].format(function=function)

    inputs = []
    for tag in tags:
        source = sources.read(tag, path)
        analysis = analyze_source(source, rules, function) if rules is not None else None
        inputs.append(TagInput(source=source, analysis=analysis, outcomes=outcomes.get(tag, ())))

    annotations = load_annotations(function)
    site = build_site(
        function=function,
        path=path,
        inputs=inputs,
        pairs=pairs,
        strings=strings,
        lang=lang,
        annotations=annotations if annotations.source else None,
        rules_note=rules_note,
        model_note=model_note,
    )
    written = write_site(site, out)
    click.echo(f"wrote {len(written)} files to {out}/ (open {out / 'index.html'})")
