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


class DaemonSettings(BaseModel):
    """`monitor run`: schedule, politeness, limits and the operator's alert rules (seconds)."""

    sources: Path = Field(Path("sources.yaml"), description="sources file or folder")
    tick: float = Field(5.0, gt=0, description="how often due sources are claimed")
    interval: float = Field(900.0, gt=0, description="poll interval of a source that sets none")
    min_interval: float = Field(120.0, gt=0, description="adaptive interval lower bound")
    max_interval: float = Field(6 * 3600.0, gt=0, description="adaptive interval upper bound")
    backoff_max: float = Field(6 * 3600.0, gt=0, description="longest wait after failures")
    lease: float = Field(300.0, gt=0, description="how long a claimed source stays claimed")
    concurrency: int = Field(32, gt=0, description="fetches in flight, all hosts")
    per_host: int = Field(2, gt=0, description="fetches in flight to one host")
    connect_timeout: float = Field(10.0, gt=0)
    total_timeout: float = Field(30.0, gt=0)
    max_bytes: int = Field(10 * 1024 * 1024, gt=0, description="response size cap")
    max_redirects: int = Field(5, ge=0)
    user_agent: str | None = Field(None, description="replaces monitor's descriptive default")
    alert_horizon: float = Field(24 * 3600.0, gt=0, description="older items are not alerted")
    back_after: float = Field(48 * 3600.0, gt=0, description="a source silent this long is new")
    failing_after: int = Field(5, gt=0, description="consecutive failures that alert the operator")
    dark_factor: float = Field(4.0, gt=1, description="silence, in usual gaps, that means dark")
    dark_min: float = Field(24 * 3600.0, gt=0, description="shortest silence that means dark")
    fulltext: bool = Field(True, description="fetch the article page of summary-only entries")
    fulltext_min_chars: int = Field(500, ge=0, description="shorter entry text is a summary")
    fulltext_concurrency: int = Field(4, gt=0)
    fulltext_max_bytes: int = Field(5 * 1024 * 1024, gt=0)
    allow_addresses: list[str] = Field(
        [], description="private networks (CIDR) that links from feed content may reach"
    )
    metrics_port: int | None = Field(None, description="serve /metrics on this port")
    metrics_host: str = "127.0.0.1"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MONITOR_", env_nested_delimiter="__", extra="forbid"
    )

    database_url: str = "sqlite:///monitor.db"
    watchlists: Path = Path("watchlists")
    channels: Path = Field(Path("channels.yaml"), description="alert channels (channels.yaml)")
    timezone: str = Field("UTC", description="time zone of datelines that carry none")
    story: StorySettings = StorySettings()
    daemon: DaemonSettings = DaemonSettings()

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
