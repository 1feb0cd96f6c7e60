"""Where the settings live, said in hints: dsprogress reads `.env` from the folder it runs in,
and the usual mistake is running it in another folder."""

from __future__ import annotations

from pathlib import Path


def where_settings_live(env_file: Path | None = Path(".env")) -> str:
    """Where the settings were looked for, for a hint: the usual mistake is the wrong folder."""
    example = "`dsprogress init --print-env-example` prints every setting, explained"
    if env_file is None:
        return f"Set them in the environment ({example})."
    path = env_file.absolute()
    if not env_file.is_file():
        return (
            f"There is no .env in {path.parent} (dsprogress reads .env from the folder you run"
            f" it in): cd to the folder that holds yours, or run `dsprogress init` here."
            f" {example[0].upper()}{example[1:]}."
        )
    return f"Set them in {path} or the environment ({example})."


def problems_hint(env_file: Path | None) -> str:
    """Where to fix invalid settings: the .env that was read (by its full path), or the
    environment."""
    where = "the environment"
    if env_file is not None and env_file.is_file():
        where = f"{env_file.absolute()} or the environment"
    return (
        f"Fix these in {where} (`dsprogress init --print-env-example` prints every setting,"
        " explained)."
    )
