"""The house rules the layout promises, checked on the source: evaluation apart from
production code, one resolver, no private names across modules, no import cycles, every
setting read, and the public names resolvable."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "trueclout"
#: Packages allowed to import the evaluation harness: the command line runs it.
EVALUATION_USERS = ("evaluate", "cli")


def _from_target(node: ast.ImportFrom, package: list[str]) -> str:
    """The absolute module a ``from ... import`` reads, from inside ``package``."""
    base = package[:len(package) - node.level + 1] if node.level else []
    return ".".join(base + ([node.module] if node.module else []))


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, as an absolute dotted name, with its line."""
    rel = path.relative_to(PKG.parent).with_suffix("")
    package = list(rel.parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            name = _from_target(node, package)
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


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        yield path, ".".join(parts), list(rel.parts[:-1])


def test_no_private_name_is_imported_from_another_module():
    """A leading underscore means 'this module only': what two modules share is public,
    with a docstring. (``cli/__main__`` may take the console entry point.)"""
    bad = []
    for path, mod, package in _modules():
        if path.name == "__main__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            target = _from_target(node, package)
            if not target.startswith("trueclout") or target == mod:
                continue
            bad += [f"{mod}:{node.lineno} imports {target}.{a.name}" for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")]
    assert not bad, "\n".join(bad)


def test_stages_import_each_other_without_cycles():
    """Imports between the top-level packages form no cycle, those inside functions
    included (a lazy import is still a dependency)."""
    graph: dict[str, set[str]] = {}
    for path, mod, package in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not node.level and not (
                    node.module or "").startswith("trueclout"):
                continue
            target = _from_target(node, package).split(".")
            a = mod.split(".")[1] if "." in mod else None
            b = target[1] if len(target) > 1 else None
            if a and b and a != b:
                graph.setdefault(a, set()).add(b)
    seen: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph.get(node, ())):
            assert seen.get(nxt) != 1, "import cycle: " + " -> ".join(path + [nxt])
            if nxt not in seen:
                visit(nxt, path + [nxt])
        seen[node] = 2
    for start in sorted(graph):
        if start not in seen:
            visit(start, [start])
    assert "detect" in graph and "store" not in graph.get("kernels", set())


def test_every_setting_is_read_somewhere():
    """A setting nobody reads misleads whoever sets it: each name appears quoted in the
    code, or is built from a prefix an f-string completes (``f"founded_{name}"``)."""
    import re

    from trueclout import config
    code = "\n".join(p.read_text(encoding="utf-8") for p in PKG.rglob("*.py")
                     if p.name != "config.py")
    prefixes = set(re.findall(r'f"([a-z_]+)\{', code))
    unread = [n for n in config.SETTINGS
              if f'"{n}"' not in code and f"'{n}'" not in code
              and not any(n.startswith(p) for p in prefixes)]
    assert not unread, unread
    # the check sees a setting that only config.py names
    assert not any("never_read_anywhere".startswith(p) for p in prefixes)


@pytest.mark.parametrize("package", ["trueclout", "trueclout.score", "trueclout.discover",
                                     "trueclout.stream", "trueclout.report",
                                     "trueclout.detect", "trueclout.store",
                                     "trueclout.graph", "trueclout.ingest", "trueclout.api"])
def test_public_names_resolve(package):
    """Every name a package exports exists (the lazy ones import on first use)."""
    import importlib
    import inspect
    import pkgutil
    mod = importlib.import_module(package)
    # a lazy name that is also a submodule is shadowed once the submodule is imported
    for m in pkgutil.iter_modules(mod.__path__):
        if not m.name.startswith("_") and m.name != "__main__" and "spark" not in package:
            importlib.import_module(f"{package}.{m.name}")
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert not missing, missing
    shadowed = [n for n in mod.__all__ if inspect.ismodule(getattr(mod, n))]
    assert not shadowed, shadowed
