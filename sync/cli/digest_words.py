"""What `digest --send` tells the learner: each channel's outcome, where the file went, and
which channels are not set up (so a learner who expected an email knows why none came)."""

from __future__ import annotations

from pathlib import Path

from sync.config import Settings
from sync.digest.deliver import ChannelResult, DeliveryReport, configured_channels

_NAMES = {"email": "email", "slack": "Slack", "discord": "Discord"}
_SETTINGS = {
    "email": "SMTP_HOST, SMTP_FROM and SMTP_TO",
    "slack": "DSPROGRESS_SLACK_WEBHOOK_URL",
    "discord": "DSPROGRESS_DISCORD_WEBHOOK_URL",
}


def describe_result(result: ChannelResult) -> str:
    """`file: saved to /state/digests/2026-W48.md (and 2026-W48.html beside it)`; the other
    channels as `ChannelResult.describe` says them (`email: sent: to 1 recipient`)."""
    if result.channel == "file" and result.outcome == "sent" and result.detail:
        path = Path(result.detail)
        return f"file: saved to {path} (and {path.with_suffix('.html').name} beside it)"
    return result.describe()


def render_delivery(report: DeliveryReport, settings: Settings, channel: str | None) -> list[str]:
    """The week (complete, or a partial week so far), one line per channel, then (when every
    channel was meant) those not set up."""
    lines = [f"{report.scope}:", *(describe_result(result) for result in report.results)]
    if channel is not None:
        return lines
    configured = set(configured_channels(settings))
    missing = [name for name in _NAMES if name not in configured]
    if missing:
        names = [_NAMES[name] for name in missing]
        listed = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]
        needs = "; ".join(f"{_NAMES[name]}: {_SETTINGS[name]}" for name in missing)
        only = "" if configured - {"file"} else ", so this digest is only in the file above"
        lines.append(
            f"Not set up: {listed}{only}. To receive it there, set in .env {needs}"
            " (`dsprogress init --print-env-example` explains them)."
        )
    return lines
