"""docs/errors.md lists every error message the code can raise, and each row names a test that
provokes it.

The code side is read from the source: every call that builds a `DsprogressError` subclass (or a
safety `Halt`) anywhere in `sync/`, its message rendered as a template where each `{...}` stands
for a value filled in at run time. The doc side is every table row under a heading that ends in
`(exit N)`. Placeholder names do not matter: `{path}` in the doc matches any `{...}` in the code.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import sync.errors

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "errors.md"

# Messages that only pass on a message documented where it was first raised.
PASS_THROUGH = {
    ("sync/engine.py", "{}; nothing was written"),  # the Halt's reason, documented as a Halt row
}
# Halts become `SafetyHaltError("<reason>; nothing was written")`.
HALT_SUFFIX = "; nothing was written"


def _error_classes() -> dict[str, int]:
    """Every DsprogressError subclass defined in sync/, by name, with its exit code."""
    base = sync.errors.DsprogressError
    codes = {name: cls.exit_code for name, cls in vars(sync.errors).items() if _is_error(cls)}
    for path in (ROOT / "sync").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                for parent in node.bases:
                    if isinstance(parent, ast.Name) and parent.id in codes:
                        codes.setdefault(node.name, codes[parent.id])
    codes.pop(base.__name__, None)  # the base class is never raised directly
    return codes


def _is_error(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, sync.errors.DsprogressError)


def render_template(node: ast.expr) -> str:
    """The message with every run-time value shown as `{}`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            render_template(v) if isinstance(v, ast.Constant) else "{}" for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return render_template(node.left) + render_template(node.right)
    return "{}"


def normalize(template: str) -> str:
    return " ".join(re.sub(r"\{[^{}]*\}", "{}", template).split())


@dataclass(frozen=True)
class CodeMessage:
    where: str
    kind: str
    exit_code: int
    template: str


def find_code_messages() -> list[CodeMessage]:
    codes = _error_classes()
    found: list[CodeMessage] = []
    for path in sorted((ROOT / "sync").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name not in codes and name != "Halt":
                continue
            message = node.args[0] if node.args else None
            for keyword in node.keywords:
                if keyword.arg in ("message", "reason"):
                    message = keyword.value
            if message is None:
                continue
            template = normalize(render_template(message))
            if name == "Halt":
                found.append(CodeMessage(relative, "Halt", 8, normalize(template + HALT_SUFFIX)))
                continue
            if not template.replace("{}", "").strip() or (relative, template) in PASS_THROUGH:
                continue
            found.append(CodeMessage(f"{relative}:{node.lineno}", name, codes[name], template))
    return found


@dataclass(frozen=True)
class DocRow:
    line: int
    exit_code: int
    template: str
    test: str


def parse_doc_rows(text: str) -> list[DocRow]:
    rows: list[DocRow] = []
    exit_code: int | None = None
    for number, line in enumerate(text.splitlines(), 1):
        heading = re.match(r"#+ .*\(exit (\d+)\)\s*$", line)
        if heading:
            exit_code = int(heading.group(1))
            continue
        if line.startswith("#"):
            exit_code = None
        if exit_code is None or not line.startswith("|"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if len(cells) < 4 or set(cells[0]) <= {"-", ":"} or cells[0] == "Message":
            continue
        message = cells[0].strip("`").strip().replace("\\|", "|")
        rows.append(DocRow(number, exit_code, normalize(message), cells[-1].strip("`").strip()))
    return rows


def test_every_error_message_in_the_code_has_a_row_in_docs_errors_md() -> None:
    rows = {(r.exit_code, r.template) for r in parse_doc_rows(DOC.read_text(encoding="utf-8"))}
    missing = [m for m in find_code_messages() if (m.exit_code, m.template) not in rows]
    lines = [
        f"  {m.where} {m.kind}: add under '(exit {m.exit_code})': | `{m.template}` | cause | fix "
        "| tests/<file>.py::<test that provokes it> |"
        for m in missing
    ]
    assert not missing, "messages without a row in docs/errors.md:\n" + "\n".join(lines)


def test_every_row_of_docs_errors_md_is_still_a_message_of_the_code() -> None:
    messages = {(m.exit_code, m.template) for m in find_code_messages()}
    rows = parse_doc_rows(DOC.read_text(encoding="utf-8"))
    stale = [r for r in rows if (r.exit_code, r.template) not in messages]
    lines = [f"  line {r.line}: (exit {r.exit_code}) `{r.template}`" for r in stale]
    assert not stale, "docs/errors.md rows that match no message in sync/:\n" + "\n".join(lines)


def test_every_row_names_a_test_that_exists() -> None:
    broken = []
    for row in parse_doc_rows(DOC.read_text(encoding="utf-8")):
        path, _, name = row.test.partition("::")
        name = name.split("[")[0]
        source = ROOT / path
        if not name or not source.is_file() or f"def {name}(" not in source.read_text("utf-8"):
            broken.append(f"  line {row.line}: `{row.test}` is not tests/<file>.py::<function>")
    assert not broken, "each row's last cell names the test that provokes it:\n" + "\n".join(broken)


def test_the_scanner_sees_messages_and_the_parser_sees_rows() -> None:
    # Guards the two tests above against passing vacuously.
    assert len(find_code_messages()) > 40
    assert len(parse_doc_rows(DOC.read_text(encoding="utf-8"))) > 40
