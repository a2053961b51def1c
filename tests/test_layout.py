"""The house rules the layout promises, checked on the source: evaluation apart from
production code."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "src" / "trueclout"
#: Packages allowed to import the evaluation harness: the command line runs it.
EVALUATION_USERS = ("evaluate", "cli")


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, as an absolute dotted name, with its line."""
    rel = path.relative_to(PKG.parent).with_suffix("")
    package = list(rel.parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            name = ".".join(base + ([node.module] if node.module else []))
            out.append((node.lineno, name))
            out += [(node.lineno, f"{name}.{a.name}") for a in node.names]
    return out


def test_production_code_never_imports_the_evaluation_harness():
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        part = path.relative_to(PKG).parts[0]
        if part in EVALUATION_USERS:
            continue
        for line, name in _imports(path):
            if name == "trueclout.evaluate" or name.startswith("trueclout.evaluate."):
                bad.append(f"{path.relative_to(PKG)}:{line} imports {name}")
    assert not bad, "\n".join(bad)


def test_the_import_scanner_sees_relative_imports(tmp_path):
    """The check above fails when it should: a relative import of the harness is seen."""
    names = [n for _, n in _imports(PKG / "detect" / "ensemble.py")]
    assert any(n.startswith("trueclout.detect.") for n in names)
    assert "trueclout.evaluate" not in names


def test_one_account_resolver():
    """Every place that names an account resolves it through trueclout.accounts and words
    'no account ...' only through UnknownAccountError."""
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        if path.name in ("accounts.py", "errors.py"):
            continue
        text = path.read_text(encoding="utf-8")
        for i, line in enumerate(text.splitlines(), 1):
            if ('"no account {' in line or "f\"no account {" in line
                    or 'startswith("no account' in line):
                bad.append(f"{path.relative_to(PKG)}:{i}: {line.strip()}")
    assert not bad, "\n".join(bad)
