"""The folders are the layers: the protocol library and the reporter's client know nothing of
the server; services and models know nothing of the surfaces (pages, API) that call them, nor of
Flask's request-global app; and no two modules of the app import each other."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SURFACES = ("app.api", "app.reporter", "app.staff", "app.governance", "app.auth.routes")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, module_level_only: bool = False) -> Iterator[tuple[str, list[str]]]:
    """(module, names) for each import in a file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parents, *([node.module] if node.module else [])])
            yield base, [alias.name for alias in node.names]


def test_services_and_models_import_no_surface_and_no_current_app() -> None:
    found = []
    for folder in ("app/services", "app/models"):
        for path in sorted((ROOT / folder).glob("*.py")):
            name = module_name(path)
            for module, names in imports(path):
                targets = [module, *(f"{module}.{n}" for n in names)]
                if any(t == s or t.startswith(s + ".") for t in targets for s in SURFACES):
                    found.append(f"{name} imports {module}")
                if "current_app" in names:
                    found.append(f"{name} uses current_app")
    assert found == []


def test_no_surface_imports_another() -> None:
    """The API and the pages share services, never each other's modules."""
    found = []
    for surface in SURFACES:
        folder = ROOT / surface.replace(".", "/")
        paths = sorted(folder.rglob("*.py")) if folder.is_dir() else [folder.with_suffix(".py")]
        for path in paths:
            for module, names in imports(path):
                targets = [module, *(f"{module}.{n}" for n in names)]
                others = [s for s in SURFACES if s != surface
                          and any(t == s or t.startswith(s + ".") for t in targets)]
                found += [f"{module_name(path)} imports {other}" for other in others]
    assert found == []


def test_the_protocol_and_the_reporters_client_load_without_the_server() -> None:
    check = (
        "import sys, crypto.codename, crypto.directory, crypto.envelope, crypto.kdf, crypto.keys,"
        " crypto.stream, candor_reporter.cli, candor_reporter.metadata, candor_reporter.protocol;"
        " bad = sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('flask', 'flask_sqlalchemy', 'sqlalchemy', 'app', 'werkzeug', 'jinja2'));"
        " print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_two_modules_of_the_app_import_each_other() -> None:
    paths = {module_name(p): p for p in sorted((ROOT / "app").rglob("*.py"))}
    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, path in paths.items():
        for module, names in imports(path, module_level_only=True):
            graph[name] |= {t for t in (module, *(f"{module}.{n}" for n in names))
                            if t in paths and t != name}
    assert cycles(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
