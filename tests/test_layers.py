"""The core's layering rules, checked on the source: no import circle, the synthetic world reached
from one place only, no method's code in the core, no bytes packed into tensors in plugins."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "avtbench"
PLUGINS = ROOT / "plugins"
PROVIDER_WIRING = "avtbench.plan"


def module_name(path: Path) -> str:
    parts = ["avtbench", *path.relative_to(CORE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports (module level and in functions), except under `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text())
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
               for sub in node.body for n in ast.walk(sub)}
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def core_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in CORE.rglob("*.py")}
    return {name: {m for m in imported_modules(path) if m in files and m != name} for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_in_the_core() -> None:
    assert cycles(core_graph()) == []


def test_only_the_plan_reaches_the_synthetic_world() -> None:
    importers = {name for name, deps in core_graph().items()
                 if any(d == "avtbench.synth" or d.startswith("avtbench.synth.") for d in deps)}
    outside = {n for n in importers if not n.startswith("avtbench.synth")}
    assert outside == {PROVIDER_WIRING}
    for path in PLUGINS.rglob("*.py"):
        assert not any(m.startswith("avtbench.synth") for m in imported_modules_plugin(path)), path


def imported_modules_plugin(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module)
    return names


def code_without_docstrings(path: Path) -> str:
    """The source minus docstrings and comments, where naming a method is allowed."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            node.value.value = ""  # a docstring, of a module, class, function or attribute
    return ast.unparse(tree)


def test_docstrings_are_ignored_but_code_is_not(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""unified_vq in a docstring"""\nx = 1\n"""and vip_ant after an attribute"""\n')
    assert "unified_vq" not in code_without_docstrings(sample) and "vip_ant" not in code_without_docstrings(sample)
    sample.write_text('name = "unified_vq"\n')
    assert "unified_vq" in code_without_docstrings(sample)


def test_no_method_name_or_method_constant_in_core_code() -> None:
    methods = [p.name for p in (PLUGINS / "methods").iterdir() if (p / "__init__.py").is_file()]
    assert {"unified_vq", "vip_ant"} <= set(methods)
    pattern = re.compile(r"VIPANT_|\b(" + "|".join(methods) + r")\b|vip.?ant|unified.?vq|cav.?mae", re.IGNORECASE)
    offenders = {str(p.relative_to(ROOT)): pattern.search(code_without_docstrings(p)).group(0)
                 for p in CORE.rglob("*.py") if pattern.search(code_without_docstrings(p))}
    assert offenders == {}


def test_no_bytes_packed_into_tensors_in_plugins() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in PLUGINS.rglob("*.py")
                 if re.search(r"\bfrombuffer\b|\bbytearray\b", p.read_text())]
    assert offenders == []
