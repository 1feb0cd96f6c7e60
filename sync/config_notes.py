"""Notes about the settings that are said once, not on every run: a secret whose pasted value
carried spaces or invisible characters (it still works: they are removed).

Each note names where the value came from (an environment variable wins over `.env`), and is
remembered by a fingerprint (a hash, never the value) in the state folder, so the same pasted
value is mentioned once; a new paste is mentioned again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sync.config import Settings

SAID_FILE = "said-notes.txt"


@dataclass(frozen=True)
class Note:
    fingerprint: str
    text: str


def cleaned_secret_notes(settings: Settings, env_file: Path | None) -> list[Note]:
    """One note per secret whose value was cleaned, naming the real source."""
    notes = []
    for name, raw in settings._cleaned:
        if name in os.environ or env_file is None:
            where = f"the environment variable {name}"
            fix = "fix it where it is set (your shell profile or the service's settings)"
        else:
            where = f"{name} in {env_file.absolute()}"
            fix = "fix it there"
        digest = hashlib.sha256(f"{name}\0{raw}".encode()).hexdigest()[:24]
        text = (
            f"{where} has spaces or invisible characters around it (a copy-paste leftover);"
            f" dsprogress removes them. To stop this note, {fix}. (Shown once.)"
        )
        notes.append(Note(digest, text))
    return notes


def notes_to_say(notes: Iterable[Note], state_dir: Path) -> list[str]:
    """The notes not said before from this state folder; remembers them as said (only once the
    folder exists: before the first sync a note is said on every run)."""
    path = state_dir / SAID_FILE
    try:
        said = set(path.read_text(encoding="utf-8").split())
    except OSError:
        said = set()
    new = [note for note in notes if note.fingerprint not in said]
    if new and state_dir.is_dir():
        lines = "".join(f"{note.fingerprint}\n" for note in new)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as file:
                file.write(lines)
        except OSError:
            pass  # not remembered: said again next time, nothing lost
    return [note.text for note in new]
