"""Settings: flags over environment over the config file over defaults, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError, load_settings


def test_precedence_flag_env_file_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "timezone: Europe/Istanbul\ndatabase_url: sqlite:///file.db\nstory:\n  window_days: 3\n"
    )
    monkeypatch.setenv("MONITOR_DATABASE_URL", "sqlite:///env.db")
    settings = load_settings(config, watchlists=Path("flag"))
    assert settings.watchlists == Path("flag")
    assert settings.database_url == "sqlite:///env.db"
    assert settings.timezone == "Europe/Istanbul" and settings.story.window_days == 3
    assert load_settings().database_url == "sqlite:///env.db"
    monkeypatch.delenv("MONITOR_DATABASE_URL")
    assert load_settings().database_url == "sqlite:///monitor.db"


def test_invalid_values_and_unknown_keys_are_named(tmp_path: Path) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text("story:\n  window_days: -1\nbogus: 1\n")
    with pytest.raises(
        ConfigError, match=r"story\.window_days: Input should be greater than 0"
    ) as info:
        load_settings(config)
    assert "bogus" in str(info.value)
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "missing.yaml")
