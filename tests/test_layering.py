"""The layers of ARCHITECTURE.md hold: a module imports (at its top level) only from its own layer or
lower ones, and only the bridge imports Brain-Score, at any level.

Function-level imports may reach higher layers only where they orchestrate (a lazily imported
verb, the report's default scorer): they are listed in :data:`LAZY_UPWARD`, so a new one is a decision
someone made, not an accident.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import realnet_plugins

ROOT = Path(realnet_plugins.__file__).resolve().parent

#: (layer, patterns of module names relative to realnet_plugins), lowest first.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("formats", (r"__init__", r"constants", r"errors", r"paths", r"storage", r"safe_pickle", r"checkpoint_files",
                 r"recipe", r"progress")),
    ("registries", (r"variants", r"backbones", r"identifiers")),
    ("models and engines", (r"architectures(\..*)?", r"checkpoints", r"importers", r"image_cache", r"extraction",
                            r"fixtures(\..*)?", r"rsa(\..*)?")),
    ("datasets", (r"datasets(\.(?!.*\.cli$).*)?",)),
    ("training and analyses", (r"training(\.(?!cli$).*)?", r"stats", r"analysis(\..*)?")),
    ("services", (r"report(\..*)?", r"fetch(\..*)?", r"executors", r"submission(\..*)?", r"demo")),
    ("bridge", (r"brainscore_bridge(\..*)?",)),
    ("command line", (r"cli", r"commands(\..*)?", r"datasets\.[a-z0-9_]+\.cli", r"training\.cli")),
]
#: Function-level imports that reach a higher layer on purpose: (importer, imported) module prefixes.
LAZY_UPWARD: set[tuple[str, str]] = {
    # a backbone's builder imports its class when called (the registry stays importable without torch)
    ("realnet_plugins.backbones", "realnet_plugins.architectures."),
    # the predicted EEG is mapped back to the release's units with the dataset's normalisation record
    ("realnet_plugins.extraction", "realnet_plugins.datasets.things_eeg2.reader"),
    # Brain-Score's score() behind the score store, the demo and the submission's data files
    ("realnet_plugins.report.scores", "realnet_plugins.brainscore_bridge.scoring"),
    ("realnet_plugins.demo", "realnet_plugins.brainscore_bridge."),
    ("realnet_plugins.submission.benchmarks", "realnet_plugins.brainscore_bridge.data_files"),
}


def layer_of(module: str) -> int:
    name = module.removeprefix("realnet_plugins").removeprefix(".") or "__init__"
    found = [i for i, (_, patterns) in enumerate(LAYERS) if any(re.fullmatch(p, name) for p in patterns)]
    assert found, f"{module} is in no layer of ARCHITECTURE.md; add it to tests/test_layering.py"
    return max(found)


def modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(("realnet_plugins",) + tuple(p for p in parts if p != "__init__"))
        if "plugin_template" in parts:
            continue  # copied into generated plugins, never imported here
        found[name] = path
    return found


def imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, at top level?) of every realnet_plugins / brainscore import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    guarded = {id(n) for node in tree.body if isinstance(node, ast.If) for n in ast.walk(node)}  # TYPE_CHECKING
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            if name.startswith(("realnet_plugins", "brainscore_vision", "brainscore_core")):
                found.append((name, id(node) in top and id(node) not in guarded))
    return found


def test_every_module_has_a_layer():
    for name in modules():
        layer_of(name)


def test_top_level_imports_never_reach_a_higher_layer():
    upward = []
    for name, path in modules().items():
        for imported, top_level in imports(path):
            if top_level and imported.startswith("realnet_plugins") and layer_of(imported) > layer_of(name):
                upward.append(f"{name} ({LAYERS[layer_of(name)][0]}) imports {imported} "
                              f"({LAYERS[layer_of(imported)][0]})")
    assert upward == []


def test_function_level_imports_reach_higher_layers_only_where_listed():
    upward = []
    for name, path in modules().items():
        for imported, top_level in imports(path):
            if (not top_level and imported.startswith("realnet_plugins") and layer_of(imported) > layer_of(name)
                    and not any(name.startswith(a) and imported.startswith(b) for a, b in LAZY_UPWARD)):
                upward.append((name, imported))
    assert sorted(set(upward)) == []


def test_only_the_bridge_imports_brainscore():
    outside = [(name, imported) for name, path in modules().items() for imported, _ in imports(path)
               if imported.startswith(("brainscore_vision", "brainscore_core"))
               and not name.startswith("realnet_plugins.brainscore_bridge")]
    assert outside == []
