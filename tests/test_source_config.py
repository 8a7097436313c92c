"""Tag ordering (analyzers.versions) and where sources come from (analyzers.config)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.source.config import DEFAULT_UPSTREAMS, build_source_config, merge_upstreams
from kvdiff.analyzers.source.repo import Upstream
from kvdiff.analyzers.versions import closest_tags, sort_tags, version_key

ORDERED = [
    "v2.6.7",
    "v2.6.9",
    "v2.6.10",
    "v2.6.11",
    "v2.6.35",
    "v3.0",
    "v3.0.1",
    "v5.1-rc1",
    "v5.1-rc2",
    "v5.1-rc10",
    "v5.1",
    "v5.1.1",
    "v5.1.2",
    "v5.10-rc1",
    "v5.10",
    "v5.10.9",
    "v5.10.37",
    "v5.10.90",
    "v6.0",
    "latest",
    "v2.6.11-tree",
]


def test_sort_tags_orders_by_version_not_name() -> None:
    shuffled = ORDERED[:]
    random.Random(7).shuffle(shuffled)
    assert sort_tags(shuffled) == ORDERED
    assert sorted(ORDERED) != ORDERED  # name order would be wrong: the test can fail


def test_version_key_pairs() -> None:
    assert version_key("v2.6.9") < version_key("v2.6.10") < version_key("v3.0")
    assert version_key("v5.1-rc1") < version_key("v5.1-rc2") < version_key("v5.1")
    assert version_key("v5.1") < version_key("v5.1.1") < version_key("v5.10.37")
    assert version_key("v5.10.37") < version_key("not-a-version")
    assert sort_tags(["b", "a", "v1.0", "v1.0"]) == ["v1.0", "a", "b"]


def test_closest_tags_prefers_shared_version_prefix() -> None:
    candidates = ["v2.6.7", "v2.6.35", "v5.1", "v5.10.9", "v5.10.37", "v5.10.90"]
    assert closest_tags("v5.10.99", candidates, n=2) == ["v5.10.90", "v5.10.37"]
    assert closest_tags("v2.6.36", candidates, n=1) == ["v2.6.35"]
    assert "v5.10.99" not in closest_tags("v5.10.99", candidates + ["v5.10.99"])
    assert closest_tags("mainlin", ["mainline", "zzz"]) == ["mainline"]


def _config(tmp_path: Path, **kwargs):  # type: ignore[no-untyped-def]
    env = kwargs.pop("env", {"XDG_CACHE_HOME": str(tmp_path / "xdg-cache")})
    env.setdefault("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    return build_source_config(env=env, cwd=tmp_path, **kwargs)


def test_defaults(tmp_path: Path) -> None:
    config = _config(tmp_path)
    assert config.cache == tmp_path / "xdg-cache" / "kvdiff" / "linux.git"
    assert [u.name for u in config.upstreams] == ["mainline", "stable", "history"]
    assert config.upstreams == DEFAULT_UPSTREAMS
    assert all(u.url.startswith("https://git.kernel.org/") for u in config.upstreams)


def test_upstream_option_keeps_known_place_and_appends_new(tmp_path: Path) -> None:
    config = _config(tmp_path, upstream_options=["stable=git://h/s.git", "mirror=file:///m"])
    assert [(u.name, u.url) for u in config.upstreams] == [
        ("mainline", DEFAULT_UPSTREAMS[0].url),
        ("stable", "git://h/s.git"),
        ("history", DEFAULT_UPSTREAMS[2].url),
        ("mirror", "file:///m"),
    ]


def test_precedence_cli_over_env_over_file_over_default(tmp_path: Path) -> None:
    (tmp_path / "kvdiff.toml").write_text(
        'cache = "from-file"\n[upstreams]\nmainline = "git://file/m.git"\nextra = "git://file/x"\n'
    )
    env = {"XDG_CACHE_HOME": str(tmp_path / "x")}
    file_only = _config(tmp_path, env=dict(env))
    assert file_only.cache == tmp_path / "from-file"
    assert file_only.upstreams[0] == Upstream("mainline", "git://file/m.git")
    assert file_only.upstreams[-1] == Upstream("extra", "git://file/x")

    env_too = _config(tmp_path, env={**env, "KVDIFF_CACHE": str(tmp_path / "from-env")})
    assert env_too.cache == tmp_path / "from-env"

    cli = _config(
        tmp_path,
        env={**env, "KVDIFF_CACHE": str(tmp_path / "from-env")},
        cache=str(tmp_path / "from-cli"),
        upstream_options=["mainline=git://cli/m.git"],
    )
    assert cli.cache == tmp_path / "from-cli"
    assert cli.upstreams[0] == Upstream("mainline", "git://cli/m.git")


def test_timeout_default_file_and_option(tmp_path: Path) -> None:
    assert _config(tmp_path).timeout == 30.0
    (tmp_path / "kvdiff.toml").write_text("timeout = 7\n")
    assert _config(tmp_path).timeout == 7.0
    assert _config(tmp_path, timeout=2.5).timeout == 2.5  # --timeout wins


def test_user_config_used_when_no_local_file(tmp_path: Path) -> None:
    user = tmp_path / "xdg-config" / "kvdiff"
    user.mkdir(parents=True)
    (user / "kvdiff.toml").write_text('[upstreams]\nhistory = "git://user/h.git"\n')
    config = _config(tmp_path)
    assert config.upstreams[2] == Upstream("history", "git://user/h.git")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("cache = [", "not valid TOML"),
        ("cache = 3", "'cache' must be a string"),
        ("[upstreams]\nmainline = 5", "[upstreams] must map names to URL strings"),
        ("upstream = 'x'", "unknown key(s) upstream"),
        ("timeout = 0", "'timeout' must be a positive number"),
        ("timeout = 'soon'", "'timeout' must be a positive number"),
    ],
)
def test_malformed_config_is_one_line_error(tmp_path: Path, text: str, fragment: str) -> None:
    (tmp_path / "kvdiff.toml").write_text(text)
    with pytest.raises(KvdiffError) as err:
        _config(tmp_path)
    assert fragment in err.value.message
    assert str(tmp_path / "kvdiff.toml") in err.value.message
    assert "\n" not in err.value.message


@pytest.mark.parametrize("value", ["mainline", "=git://x", "mainline="])
def test_bad_upstream_option(tmp_path: Path, value: str) -> None:
    with pytest.raises(KvdiffError, match="is not NAME=URL"):
        _config(tmp_path, upstream_options=[value])


def test_merge_upstreams_layers() -> None:
    base = (Upstream("a", "1"), Upstream("b", "2"))
    assert merge_upstreams(base, [Upstream("c", "3")], [Upstream("a", "9")]) == (
        Upstream("a", "9"),
        Upstream("b", "2"),
        Upstream("c", "3"),
    )
