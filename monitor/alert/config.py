"""channels.yaml: where alerts go. Secrets are named by environment variable, never written.

```yaml
version: 1
channels:
  ops-slack:
    type: slack
    channel: C0123456789          # the channel ID
    token_env: MONITOR_SLACK_TOKEN
    min_severity: warning
  desk-email:
    type: email
    host: smtp.example.org
    port: 587
    security: starttls            # starttls, tls or none
    username: alerts@example.org
    password_env: MONITOR_SMTP_PASSWORD
    sender: alerts@example.org
    recipients: [desk@example.org]
```

The console channel always exists; watchlist rules route to these names. An optional
``delivery:`` section tunes retries (``base_seconds``, ``cap_seconds``, ``max_attempts``,
``lease_seconds``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.alert.channels import Channel, Policy
from monitor.alert.channels.console import ConsoleChannel
from monitor.alert.channels.email import EmailChannel
from monitor.alert.channels.slack import SlackChannel
from monitor.alert.channels.webhook import WebhookChannel
from monitor.alert.delivery import RetryPolicy

Severity = Literal["info", "warning", "critical"]


class ChannelConfigError(Exception):
    """channels.yaml is unreadable, invalid, or names an unset environment variable."""


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_severity: Severity = "info"
    per_minute: int | None = Field(None, gt=0, description="messages per minute, paced")
    flood_limit: int | None = Field(10, gt=0, description="alerts per rule per minute")
    timeout: float = Field(30, gt=0)

    def policy(self) -> Policy:
        return Policy(self.min_severity, self.per_minute, self.flood_limit)


class SlackConfig(_Base):
    type: Literal["slack"]
    channel: str = Field(min_length=1)
    token_env: str = Field(min_length=1)
    base_url: str = "https://slack.com/api/"
    per_minute: int | None = Field(50, gt=0)  # Slack allows about one message a second


class EmailConfig(_Base):
    type: Literal["email"]
    host: str
    port: int = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    recipients: list[str] = Field(min_length=1)
    message_id_domain: str | None = None


class WebhookConfig(_Base):
    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://")
    secret_env: str | None = None


class DeliverySection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_seconds: float = Field(5.0, gt=0)
    cap_seconds: float = Field(3600.0, gt=0)
    max_attempts: int = Field(12, ge=1)
    lease_seconds: float = Field(120.0, gt=0)


class ChannelsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    delivery: DeliverySection = DeliverySection()
    channels: dict[
        str, Annotated[SlackConfig | EmailConfig | WebhookConfig, Field(discriminator="type")]
    ] = {}


def _secret(name: str | None, channel: str) -> str | None:
    if name is None:
        return None
    value = os.environ.get(name)
    if not value:
        raise ChannelConfigError(f"channel {channel!r}: environment variable {name} is not set")
    return value


def build(name: str, config: SlackConfig | EmailConfig | WebhookConfig) -> Channel:
    if isinstance(config, SlackConfig):
        token = _secret(config.token_env, name)
        assert token is not None
        return SlackChannel(
            name, token, config.channel, config.policy(), config.base_url, config.timeout
        )
    if isinstance(config, EmailConfig):
        return EmailChannel(
            name,
            config.policy(),
            config.host,
            config.port,
            config.security,
            config.sender,
            config.recipients,
            config.username,
            _secret(config.password_env, name),
            config.message_id_domain,
            config.timeout,
        )
    return WebhookChannel(
        name, config.policy(), config.url, _secret(config.secret_env, name), config.timeout
    )


@dataclass(slots=True)
class DeliveryConfig:
    channels: dict[str, Channel]
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def load_delivery(path: Path | None, console: Channel | None = None) -> DeliveryConfig:
    """Every channel by name, and the retry policy; no file means the console only."""
    channels: dict[str, Channel] = {"console": console or ConsoleChannel()}
    if path is None or not path.is_file():
        return DeliveryConfig(channels)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = ChannelsFile.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise ChannelConfigError(f"{path}: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ChannelConfigError(f"{path}: {problems}") from None
    for name, config in parsed.channels.items():
        if name == "console":
            raise ChannelConfigError(f"{path}: 'console' is built in; pick another name")
        channels[name] = build(name, config)
    timeouts = [c.timeout for c in parsed.channels.values()]
    if timeouts and max(timeouts) >= parsed.delivery.lease_seconds:
        raise ChannelConfigError(f"{path}: delivery.lease_seconds must exceed every timeout")
    return DeliveryConfig(channels, RetryPolicy(**parsed.delivery.model_dump()))


def load_channels(path: Path | None, console: Channel | None = None) -> dict[str, Channel]:
    return load_delivery(path, console).channels
