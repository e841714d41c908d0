"""The core's layering rules, checked on the source: no import circle, the synthetic world reached
from one place only, no method's code and no dataset's name in the core, no bytes packed into tensors
in plugins."""
from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path
from typing import Iterator

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
    """In the core, only the plan wires the world in; among plugins, only a dataset's synthetic copy
    (plugins/datasets/<name>/synthetic.py) renders through it, so no reader or task depends on it."""
    importers = {name for name, deps in core_graph().items()
                 if any(d == "avtbench.synth" or d.startswith("avtbench.synth.") for d in deps)}
    outside = {n for n in importers if not n.startswith("avtbench.synth")}
    assert outside == {PROVIDER_WIRING}
    for path in PLUGINS.rglob("*.py"):
        if path.name == "synthetic.py" and path.parent.parent == PLUGINS / "datasets":
            continue
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


# ---- the core names no dataset ---------------------------------------------------------------------

CONCEPTS = {"corpus": "the data a method pretrains on, a word of the Method contract (Method.corpus, pretrain(corpus))"}
"""Dataset names that are also words of the core's contracts: allowed in identifiers, never as a string."""
IDENTIFIERS_FREE = ("avtbench/metrics/",)
"""Where identifiers may carry a dataset's name: the metrics keep the names of the evaluations they
reproduce (AVE accuracy, AVVP F1: docs/architecture.md places them in the core); they read arrays, never a dataset."""
KNOWN = {
    ("avtbench/api.py", "DEFAULT_CORPUS"): "the default of Method.corpus: the one dataset name the core knows",
    ("avtbench/plan.py", "checkpoint_key"): "'corpus' is a field of the hashed checkpoint identity, not a "
                                              "dataset; renaming it would orphan every cached checkpoint",
    ("avtbench/compat.py", "_looks_like_api1_method"): "'corpus' is the name of pretrain's parameter in plugin API 1",
}
"""(file, enclosing definition or module-level assignment) where a string equal to a dataset name is
allowed, and why."""


def builtin_dataset_names() -> set[str]:
    """The names the built-in dataset plugins (plugins/datasets/<package>/) declare."""
    names: set[str] = set()
    for package in sorted(p.name for p in (PLUGINS / "datasets").iterdir() if (p / "__init__.py").is_file()):
        module = importlib.import_module(f"avtbench_plugins.datasets.{package}")
        names.update(card.name for card in module.avtbench_cards() if card.kind == "dataset")
    return names


def words(identifier: str) -> list[str]:
    """The lower-case words of an identifier: `AveSizes` -> ave, sizes; `write_avs_s4` -> write, avs, s, 4."""
    return [w.lower() for part in identifier.split("_") for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", part)]


def _holds(identifier: str, name: str) -> bool:
    have, want = words(identifier), words(name)
    return any(have[i : i + len(want)] == want for i in range(len(have) - len(want) + 1))


def _scoped(tree: ast.Module) -> Iterator[tuple[ast.AST, str]]:
    """Every node with its scope: the innermost enclosing def or class, or the module-level assignment."""
    def visit(node: ast.AST, scope: str) -> Iterator[tuple[ast.AST, str]]:
        yield node, scope
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inner = child.name
            elif isinstance(node, ast.Module) and isinstance(child, (ast.Assign, ast.AnnAssign)):
                targets = child.targets if isinstance(child, ast.Assign) else [child.target]
                inner = ",".join(t.id for t in targets if isinstance(t, ast.Name))
            yield from visit(child, inner)
    yield from visit(tree, "")


def _identifiers(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.arg, ast.keyword)):
        return [node.arg] if node.arg else []
    if isinstance(node, ast.alias):
        return [*node.name.split("."), *([node.asname] if node.asname else [])]
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")
    return []


def dataset_mentions(path: Path, shown: str, names: set[str]) -> list[str]:
    """'file:line: what' for each place in `path` (shown as `shown`) that names one of `names`: a string
    equal to one (docstrings aside; `KNOWN` places allowed), an import of the plugins, or an identifier
    holding one as words (`ave_splits`, `AveSizes`; `CONCEPTS` and `IDENTIFIERS_FREE` aside)."""
    tree = ast.parse(path.read_text())
    docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    check_identifiers = not shown.startswith(IDENTIFIERS_FREE)
    found = []
    for node, scope in _scoped(tree):
        line = f"{shown}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value in names and (shown, scope) not in KNOWN:
                found.append(f"{line}: the string {node.value!r}")
            elif node.value.startswith("avtbench_plugins"):
                found.append(f"{line}: the plugins' module {node.value!r}")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"{line}: an import of {m}" for m in modules if m.split(".")[0] == "avtbench_plugins"]
        if check_identifiers:
            found += [f"{line}: the identifier {i!r} (dataset {n!r})" for i in _identifiers(node) for n in sorted(names)
                      if n not in CONCEPTS and _holds(i, n)]
    return found


def test_the_dataset_name_finder_finds_each_kind(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""ave in a docstring is fine"""\nimport avtbench_plugins.datasets\n'
                      'x = {"ave": 1}\nave_splits = 2\nclass AvsS4Writer: pass\ny = corpus + "avs_s4x"\n')
    found = dataset_mentions(sample, "sample.py", {"ave", "avs_s4", "corpus"})
    assert found == ["sample.py:2: an import of avtbench_plugins.datasets", "sample.py:3: the string 'ave'",
                     "sample.py:4: the identifier 'ave_splits' (dataset 'ave')",
                     "sample.py:5: the identifier 'AvsS4Writer' (dataset 'avs_s4')"], found


def test_no_dataset_is_named_in_the_core() -> None:
    names = builtin_dataset_names()
    assert names == {"ave", "avvp", "corpus", "retrieval", "avs_s4"}
    found = [m for p in sorted(CORE.rglob("*.py")) for m in dataset_mentions(p, str(p.relative_to(ROOT)), names)]
    assert found == [], "the core names a dataset (declare it in its plugin, plugins/datasets/<name>/):\n" + "\n".join(found)



RECORD_FIELDS = ("main_metric", "main_value", "metrics", "cell_hash", "config_hash", "method_hash", "column_hash",
                 "lower_is_better", "record_version", "timings", "pretrain", "trained_s", "total_s")
"""Fields of a cell's record (`avtbench.record`): read as attributes of the dataclass everywhere else."""


def test_only_the_record_module_names_a_records_fields_as_keys() -> None:
    """`record["main_value"]` outside `avtbench/record.py` would be a second place where the record's
    layout is spelled; the core, the plugins and the benchmarks read `CellRecord` attributes."""
    found = []
    for root in (CORE, PLUGINS, ROOT / "benchmarks"):
        for path in sorted(root.rglob("*.py")):
            if path == CORE / "record.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                        and node.slice.value in RECORD_FIELDS:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: [{node.slice.value!r}]")
    assert not found, "read the record's fields through avtbench.record.CellRecord:\n" + "\n".join(found)


ENGINE = ("avtbench.runner", "avtbench.plan", "avtbench.plugins", "avtbench.recording", "avtbench.executors",
          "avtbench.store", "avtbench.cli", "avtbench.catalog")
"""The core's machinery for running grids: a plugin (its commands and plots included) reaches it through
`avtbench.toolkit` instead, so that the machinery can change without breaking plugins."""


def test_plugins_reach_the_grid_machinery_only_through_the_toolkit() -> None:
    found = [f"{path.relative_to(ROOT)}: imports {module}" for path in sorted(PLUGINS.rglob("*.py"))
             for module in sorted(imported_modules_plugin(path))
             if any(module == e or module.startswith(e + ".") for e in ENGINE)]
    assert not found, "use avtbench.toolkit (run_or_load_cell, pretrained, configured, method_corpus, ...):\n" + "\n".join(found)
