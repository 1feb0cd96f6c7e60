"""The one error family of dsprogress.

Library code raises these; only the CLI prints them and exits. Each kind has its own exit code and
every error carries a hint that tells the user the fix. Messages never contain secrets.
"""

from __future__ import annotations


class DsprogressError(Exception):
    """Base error: a one-line message, a hint with the fix, and the process exit code.

    `details` holds one line per problem when there are several (configuration, checklist); the CLI
    prints each on its own line under the message.
    """

    exit_code = 1
    default_hint = "Rerun with --verbose for details."

    def __init__(
        self, message: str, hint: str | None = None, *, details: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        self.details = list(details or [])

    def __str__(self) -> str:
        return self.message


class ConfigError(DsprogressError):
    """The settings (environment or .env) are missing or invalid."""

    exit_code = 3
    default_hint = (
        "Fix the variable in your environment or .env"
        " (`dsprogress init --print-env-example` prints every setting, explained)."
    )


class ChecklistError(DsprogressError):
    """The checklist template cannot be read or is invalid."""

    exit_code = 4
    default_hint = "Fix the checklist file, then run `dsprogress checklist validate`."


# Where Notion makes tokens today: personal access tokens first, internal connections second.
PERSONAL_TOKENS_URL = "https://www.notion.so/developers/tokens"
CONNECTIONS_URL = "https://www.notion.so/developers/connections"


class NotionAuthError(DsprogressError):
    """Notion rejected the token."""

    exit_code = 5
    default_hint = (
        f"Check NOTION_TOKEN: copy it again, or make a new one (a personal access token at "
        f"{PERSONAL_TOKENS_URL}, or an internal connection's secret at {CONNECTIONS_URL}), "
        "then run `dsprogress init`."
    )


class NotionNotFoundError(DsprogressError):
    """A page or database does not exist, or the token cannot see it (not shared)."""

    exit_code = 6
    default_hint = (
        "Check the link. With an internal connection, also open the page in Notion, ... menu "
        "-> Connections -> add it (a personal access token needs no sharing)."
    )


class NotionUnavailableError(DsprogressError):
    """Notion (or the network) failed even after retries."""

    exit_code = 7
    default_hint = "Check your network connection and https://status.notion.so, then try again."


class NotionRequestError(DsprogressError):
    """Notion refused a request as invalid (a 400 that retrying cannot fix)."""

    exit_code = 7
    default_hint = "Run `dsprogress doctor` to check the database schema and your settings."


class SafetyHaltError(DsprogressError):
    """The plan looks dangerous; nothing was written."""

    exit_code = 8
    default_hint = "Rerun with --force if you meant it."


class BusyError(DsprogressError):
    """Another dsprogress process holds the state lock."""

    exit_code = 9
    default_hint = "Wait for the other run (or the daemon's current sync) to finish, then retry."


class StateError(DsprogressError):
    """The local state or snapshot is unreadable or from a newer version."""

    exit_code = 10
    default_hint = "Check DSPROGRESS_STATE_DIR; restore it from a backup or point it elsewhere."


class DeliveryError(DsprogressError):
    """A digest channel could not deliver."""

    exit_code = 11
    default_hint = "Check the channel's settings in .env, then run `dsprogress doctor --send-test`."


class ChecksFailedError(DsprogressError):
    """`dsprogress doctor` found problems (each already printed with its fix)."""

    exit_code = 12
    default_hint = "Apply the fixes above, or run `dsprogress doctor --fix` for schema problems."


class DatabaseGoneError(DsprogressError):
    """The checklist database (or its data source) is in Notion's Trash or no longer reachable."""

    exit_code = 13
    default_hint = (
        "Restore the database from Notion's Trash (sidebar -> Trash); or add your internal "
        "connection to its page again (... -> Connections), or with a personal access token "
        "check your access to it; or run `dsprogress init` to start over with a new database."
    )


class CohortPartialError(DsprogressError):
    """A cohort run read some learners but not all (each unreachable one is listed)."""

    exit_code = 14
    default_hint = (
        "Each learner listed could not be read (database in the Trash, no longer shared, or "
        "broken); the others were read. Ask the learner, or rerun `dsprogress cohort sync "
        "--rediscover` after a database moved."
    )


class Terminated(BaseException):
    """SIGTERM asked a run to stop (`sync.cli.stop`); raised at an action boundary. Not an
    Exception (nothing may swallow it), nor a KeyboardInterrupt (click would turn that into
    "Aborted.")."""
