"""Where sources come from: defaults, ``kvdiff.toml``, environment and command line, merged.

Precedence is command line > environment > config file > defaults. Upstreams keep an order (they
are asked in turn which one has a tag): overriding a known name keeps its place, a new name is
appended.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.source.types import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_TIMEOUT,
    SourceConfig,
    Upstream,
)

DEFAULT_UPSTREAMS: tuple[Upstream, ...] = (
    Upstream("mainline", "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git"),
    Upstream("stable", "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git"),
    Upstream("history", "https://git.kernel.org/pub/scm/linux/kernel/git/history/history.git"),
)
CONFIG_NAME = "kvdiff.toml"


@dataclass(frozen=True)
class FileConfig:
    """What a ``kvdiff.toml`` says (``path`` is None when there is none)."""

    path: Path | None = None
    cache: Path | None = None
    upstreams: tuple[Upstream, ...] = ()
    timeout: float | None = None


def default_cache(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kvdiff" / "linux.git"


def config_path(cwd: Path, env: Mapping[str, str]) -> Path | None:
    """``./kvdiff.toml`` if present, else ``$XDG_CONFIG_HOME/kvdiff/kvdiff.toml`` if present."""
    local = cwd / CONFIG_NAME
    if local.is_file():
        return local
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    user = Path(base) / "kvdiff" / CONFIG_NAME
    return user if user.is_file() else None


def load_config_file(path: Path | None) -> FileConfig:
    """Read and validate a ``kvdiff.toml``; any problem is a one-line :class:`KvdiffError`."""
    if path is None:
        return FileConfig()
    import tomllib  # only when there is a file: most runs have none

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise KvdiffError(f"cannot read config {path}: {exc}; fix or remove it") from None
    except tomllib.TOMLDecodeError as exc:
        raise KvdiffError(f"config {path} is not valid TOML: {exc}; fix or remove it") from None
    unknown = sorted(set(raw) - {"cache", "upstreams", "timeout"})
    if unknown:
        raise KvdiffError(
            f"config {path} has unknown key(s) {', '.join(unknown)}; "
            "only 'cache', 'timeout' and '[upstreams]' are understood"
        )
    timeout = raw.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise KvdiffError(
            f"config {path}: 'timeout' must be a positive number of seconds; fix or remove it"
        )
    cache = raw.get("cache")
    if cache is not None and not isinstance(cache, str):
        raise KvdiffError(f"config {path}: 'cache' must be a string path; fix or remove it")
    table = raw.get("upstreams", {})
    if not isinstance(table, dict) or not all(isinstance(v, str) and v for v in table.values()):
        raise KvdiffError(
            f"config {path}: [upstreams] must map names to URL strings, "
            'e.g. mainline = "https://…"; fix or remove it'
        )
    # A relative cache path is relative to the file that names it, not to wherever kvdiff runs.
    cache_path = None if cache is None else (path.parent / Path(cache).expanduser())
    return FileConfig(
        path=path,
        cache=cache_path,
        upstreams=tuple(Upstream(name, url) for name, url in table.items()),
        timeout=None if timeout is None else float(timeout),
    )


def parse_upstream_option(value: str) -> Upstream:
    """``NAME=URL`` from ``--upstream``."""
    name, sep, url = value.partition("=")
    name, url = name.strip(), url.strip()
    if not sep or not name or not url:
        raise KvdiffError(
            f"--upstream {value!r} is not NAME=URL; "
            "write e.g. --upstream mainline=https://git.kernel.org/…/linux.git"
        )
    return Upstream(name, url)


def merge_upstreams(
    base: Iterable[Upstream], *overrides: Iterable[Upstream]
) -> tuple[Upstream, ...]:
    """Apply each override layer in turn: a known name keeps its place, a new name is appended."""
    order: dict[str, str] = {u.name: u.url for u in base}
    for layer in overrides:
        for upstream in layer:
            order[upstream.name] = upstream.url  # dict keeps first-insertion order
    return tuple(Upstream(name, url) for name, url in order.items())


_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def parse_size(value: str) -> int:
    """``--max-file-size``: bytes, or with a K/M/G suffix (powers of 1024)."""
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    unit = text[-1:] if text[-1:] in "KMG" else ""
    number = text[: len(text) - len(unit)]
    if not number.isdigit() or len(number) > 15 or int(number) == 0:
        raise KvdiffError(
            f"--max-file-size {value!r} is not a size; write e.g. 64M, 2G or 100000000"
        )
    return int(number) * _SIZE_UNITS[unit]


def build_source_config(
    *,
    upstream_options: Iterable[str] = (),
    cache: str | Path | None = None,
    repos: Iterable[str | Path] = (),
    offline: bool = False,
    quiet: bool = False,
    timeout: float | None = None,
    max_file_size: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> SourceConfig:
    """The :class:`SourceConfig` for one run, from options, environment, config file, defaults."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    file_config = load_config_file(config_path(cwd, env))
    cli_upstreams = [parse_upstream_option(v) for v in upstream_options]
    if cache is not None:
        cache_path = Path(cache).expanduser()
    elif env.get("KVDIFF_CACHE"):
        cache_path = Path(env["KVDIFF_CACHE"]).expanduser()
    elif file_config.cache is not None:
        cache_path = file_config.cache
    else:
        cache_path = default_cache(env)
    return SourceConfig(
        cache=(cwd / cache_path).resolve() if not cache_path.is_absolute() else cache_path,
        upstreams=merge_upstreams(DEFAULT_UPSTREAMS, file_config.upstreams, cli_upstreams),
        repos=tuple(Path(r).expanduser() for r in repos),
        offline=offline,
        quiet=quiet,
        timeout=timeout or file_config.timeout or DEFAULT_TIMEOUT,
        max_file_bytes=(
            DEFAULT_MAX_FILE_BYTES if max_file_size is None else parse_size(max_file_size)
        ),
    )
