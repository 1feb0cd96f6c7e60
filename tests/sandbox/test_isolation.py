"""The sandbox shares no code with the client: it imports only itself, the stdlib and httpx."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import sync.sandbox

PACKAGE = Path(sync.sandbox.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_sandbox_imports_only_itself_the_stdlib_and_httpx() -> None:
    files = sorted(PACKAGE.glob("*.py"))
    assert len(files) > 10
    for path in files:
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top == "sync":
                assert module == "sync.sandbox" or module.startswith("sync.sandbox."), (
                    path.name,
                    module,
                )
            elif top == "httpx":
                assert path.name == "control.py", f"{path.name} imports httpx"
            else:
                assert top in sys.stdlib_module_names or top == "__future__", (path.name, module)
