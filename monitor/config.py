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
    """Story detection knobs; docs/story.md gives the figures the defaults reach on the eval set.

    A pair of reports scores ``cosine + anchor_weight × anchor similarity``; a report joins
    the story whose reports in the window it scores best against on average, if that average
    reaches ``same_threshold``. Without a model, anchor similarity alone decides, against the
    ``anchors_only_*`` thresholds.
    """

    window_days: float = Field(
        30.0, gt=0, description="most days between two reports' date ranges in one story"
    )
    related_days: float = Field(365.0, gt=0, description="how far back related stories are found")
    model: str = Field("use-m3", description="sentence embedding model: use-m3 or none")
    same_threshold: float = Field(0.575, description="score at or above which a report joins")
    related_threshold: float = Field(
        0.45, description="score at or above which an earlier story is linked as related"
    )
    anchor_weight: float = Field(0.5, ge=0, description="weight of shared names and numbers")
    disjoint_penalty: float = Field(
        0.1,
        ge=0,
        description="subtracted from a pair that shares no name or number although both have some",
    )
    anchors_only_same_threshold: float = Field(
        0.3, description="same_threshold when no model is loaded"
    )
    anchors_only_related_threshold: float = Field(
        0.15, description="related_threshold when no model is loaded"
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MONITOR_", env_nested_delimiter="__", extra="forbid"
    )

    database_url: str = "sqlite:///monitor.db"
    watchlists: Path = Path("watchlists")
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
