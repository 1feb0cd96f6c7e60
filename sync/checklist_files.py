"""Where checklists come from: the bundled templates folder and reading a checklist file."""

from __future__ import annotations

from pathlib import Path

from sync.checklist import Checklist, parse_checklist
from sync.errors import ChecklistError


def bundled_templates_dir() -> Path:
    """The templates folder: `sync/templates` in an installed wheel, else the repo's `templates/`.

    The wheel build copies the top-level `templates/` into the package (pyproject force-include).
    """
    installed = Path(__file__).resolve().parent / "templates"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "templates"


def bundled_env_example_path() -> Path:
    """`.env.example`: `sync/templates/env.example` in a wheel, else the repo's `.env.example`."""
    installed = Path(__file__).resolve().parent / "templates" / "env.example"
    if installed.is_file():
        return installed
    return Path(__file__).resolve().parent.parent / ".env.example"


def bundled_checklist_path() -> Path:
    return bundled_templates_dir() / "checklist.yaml"


def load_checklist(path: Path | None = None) -> Checklist:
    """Read and parse a checklist file; None means the bundled checklist."""
    target = bundled_checklist_path() if path is None else Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ChecklistError(
            f"cannot read the checklist {target}: not UTF-8 text (byte {exc.start})",
            hint="Save the checklist as UTF-8 text.",
        ) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ChecklistError(
            f"cannot read the checklist {target}: {reason}",
            hint="Check the path (DSPROGRESS_CHECKLIST or the PATH argument) and its permissions.",
        ) from None
    return parse_checklist(text, str(target))
