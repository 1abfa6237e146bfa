"""Configuration: flags over environment (MONITOR_*) over an optional YAML file over defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)


class StorySettings(BaseModel):
    """Story detection knobs; README lists the figures the defaults give on the eval set."""

    window_days: float = Field(7.0, gt=0, description="how far back a report may join a story")
    related_days: float = Field(365.0, gt=0, description="how far back related stories are found")
    model: str = Field("use-m3", description="sentence embedding model: use-m3 or none")
    same_threshold: float = Field(0.5, description="score at or above which a report joins")
    related_threshold: float = Field(0.3, description="score at or above which stories are related")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MONITOR_", env_nested_delimiter="__", extra="forbid"
    )

    database_url: str = "sqlite:///monitor.db"
    watchlists: Path = Path("watchlists")
    channels: Path = Field(Path("channels.yaml"), description="alert channels (channels.yaml)")
    timezone: str = Field("UTC", description="time zone of datelines that carry none")
    story: StorySettings = StorySettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # yaml_file is set only on the subclass that load_settings makes for a --config file.
        return init_settings, env_settings, YamlConfigSettingsSource(settings_cls)


class ConfigError(Exception):
    """A configuration problem, worded for the operator."""


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings; ``overrides`` are command-line flags (None means not given)."""
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"{config_file}: config file not found")

    class FileSettings(Settings):
        model_config = SettingsConfigDict(yaml_file=config_file)

    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return FileSettings(**given)
    except ValidationError as exc:
        where = config_file or "environment"
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{where}: invalid configuration: {problems}") from exc
