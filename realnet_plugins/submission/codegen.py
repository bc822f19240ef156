"""Copy the code a submitted model plugin runs out of this package's own modules.

A plugin submitted to brain-score.org cannot rely on realnet-plugins being installed, so it carries a
plugin-local package (``realnet_lib``) made from this package's source files at generation time:
one source of truth, no hand-kept copy.

* Modules listed with ``None`` in :data:`CARRIED` are copied whole; from the others only the named
  top-level definitions are taken (with the comment lines above them), together with exactly the
  imports they use.
* Every ``from realnet_plugins.X import name`` (also inside functions) becomes a relative import of
  the plugin-local ``X``. Generation stops with :class:`CarriedCodeError` when ``X`` is not carried,
  when ``name`` is not defined there, or when a picked definition uses a sibling that is not picked,
  so the copy can neither reach back into realnet-plugins nor silently drag in unrelated parts of it.
* :func:`requirements` lists the third-party distributions the carried code imports, with the
  version floors this package declares for them.

The generated modules keep their package-relative layout (``realnet_lib/checkpoints.py``,
``realnet_lib/architectures/cornet_s.py`` ...), so the copied code reads like the original.
"""
from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path
from typing import Mapping

import realnet_plugins
from realnet_plugins import __version__

ROOT = "realnet_plugins"
#: Name of the plugin-local package inside a generated plugin folder.
LIBRARY_NAME = "realnet_lib"

#: What a generated model plugin carries: package module → ``None`` (the whole module), a tuple of
#: top-level names taken from it, or ``()`` (an empty package ``__init__``). Every package above a
#: carried module must be carried as well.
CARRIED: dict[str, tuple[str, ...] | None] = {
    ROOT: ("__version__",),
    f"{ROOT}.constants": None,
    f"{ROOT}.errors": None,
    f"{ROOT}.paths": None,
    f"{ROOT}.storage": None,
    f"{ROOT}.identifiers": None,
    f"{ROOT}.architectures": None,
    f"{ROOT}.architectures.cornet_s": None,
    f"{ROOT}.architectures.resnet": None,
    f"{ROOT}.architectures.realnet": None,
    f"{ROOT}.checkpoints": None,
    f"{ROOT}.checkpoint_files": None,
    f"{ROOT}.variants": None,
    f"{ROOT}.backbones": None,
    f"{ROOT}.image_cache": None,
    f"{ROOT}.extraction": ("ImagePreprocessing", "RealnetModel"),
    f"{ROOT}.brainscore_bridge": (),
    f"{ROOT}.brainscore_bridge.models": None,
    f"{ROOT}.submission": (),
    f"{ROOT}.submission.weights": None,
}

#: Top-level modules a Brain-Score environment provides; never listed as a plugin requirement.
PROVIDED_BY_BRAINSCORE = frozenset({"brainscore_vision", "brainscore_core"})


class CarriedCodeError(RuntimeError):
    """The carried code would need a module or name that is not carried: fix :data:`CARRIED` (a bug, not a
    user's mistake)."""


def _package_dir() -> Path:
    return Path(realnet_plugins.__file__).resolve().parent


def module_file(module: str) -> tuple[Path, bool]:
    """The source file of a package module and whether it is a package (``__init__.py``).

    Raises:
        CarriedCodeError: no such source file.
    """
    parts = module.split(".")[1:]
    folder = _package_dir().joinpath(*parts)
    if (folder / "__init__.py").is_file():
        return folder / "__init__.py", True
    if parts and folder.with_suffix(".py").is_file():
        return folder.with_suffix(".py"), False
    raise CarriedCodeError(f"{module} has no source file under {_package_dir()}")


def _local_path(module: str, is_package: bool) -> str:
    parts = module.split(".")[1:]
    return "/".join(parts + ["__init__.py"]) if is_package else "/".join(parts) + ".py"


def _is_own(module: str | None) -> bool:
    return module is not None and (module == ROOT or module.startswith(ROOT + "."))


def _relative_import(importer: str, importer_is_package: bool, target: str, names: list[ast.alias],
                     indent: str) -> str:
    """``from <dots><rest> import names`` reaching ``target`` from ``importer`` inside the carried tree."""
    depth = len(importer.split(".")) - (1 if importer_is_package else 2)
    rest = target[len(ROOT) + 1:] if target != ROOT else ""
    line = ast.unparse(ast.ImportFrom(module=rest or None, names=names, level=depth + 1))
    if len(indent) + len(line) <= 120 or len(names) == 1:
        return line
    head, _, tail = line.partition(" import ")
    items = tail.split(", ")
    return head + " import (\n" + "".join(f"{indent}    {item},\n" for item in items) + f"{indent})"


def _rewrite_imports(text: str, module: str, is_package: bool, carried: Mapping[str, object]) -> str:
    """``text`` with every import of this package rewritten to the plugin-local relative form.

    Raises:
        CarriedCodeError: an import of a module that is not carried, an ``import realnet_plugins...``
            statement, or a relative import in the source.
    """
    tree = ast.parse(text)
    edits: list[tuple[ast.ImportFrom, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            own = [a.name for a in node.names if _is_own(a.name)]
            if own:
                raise CarriedCodeError(f"{module} line {node.lineno}: `import {own[0]}` cannot be carried; "
                                       "write `from ... import ...`")
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise CarriedCodeError(f"{module} line {node.lineno}: relative imports are not supported in carried code")
        elif isinstance(node, ast.ImportFrom) and _is_own(node.module):
            if node.module not in carried:
                raise CarriedCodeError(
                    f"{module} line {node.lineno} imports {node.module}, which a generated plugin does not carry; "
                    "add it to realnet_plugins.submission.codegen.CARRIED or avoid the import"
                )
            indent = " " * node.col_offset
            edits.append((node, _relative_import(module, is_package, node.module, node.names, indent)))
    lines = text.splitlines(keepends=True)
    for node, new in sorted(edits, key=lambda e: (e[0].lineno, e[0].col_offset), reverse=True):
        start, end = node.lineno - 1, node.end_lineno - 1
        lines[start:end + 1] = [lines[start][:node.col_offset] + new + lines[end][node.end_col_offset:]]
    return "".join(lines)


def _bound_names(node: ast.stmt) -> list[str]:
    """Names a top-level statement defines (functions, classes, assignments)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _imported_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [a.asname or a.name.split(".")[0] for a in node.names]
    return []


def _pick(text: str, module: str, names: tuple[str, ...]) -> str:
    """The named top-level definitions of ``text`` with the imports they use, as a module of their own.

    Raises:
        CarriedCodeError: a name is not defined at the top level, or a picked definition uses another
            top-level definition of the module that is not picked.
    """
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    defined = {name: node for node in tree.body for name in _bound_names(node)}
    missing = [n for n in names if n not in defined]
    if missing:
        raise CarriedCodeError(f"{module} defines no top-level {', '.join(missing)} (listed in CARRIED)")
    picked = [node for node in tree.body if set(_bound_names(node)) & set(names)]
    used = {n.id for node in picked for n in ast.walk(node) if isinstance(n, ast.Name)}
    own = {name for node in picked for name in _bound_names(node)}
    needed = sorted((used & set(defined)) - own)
    if needed:
        raise CarriedCodeError(f"{module}: the carried {', '.join(names)} use {', '.join(needed)}; carry them too")
    imports = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            imports.append(ast.unparse(node))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            kept = [a for a in node.names if (a.asname or a.name.split(".")[0]) in used]
            if kept:
                node_copy = (ast.Import(names=kept) if isinstance(node, ast.Import)
                             else ast.ImportFrom(module=node.module, names=kept, level=node.level))
                imports.append(ast.unparse(node_copy))
    segments = []
    for node in picked:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        while start > 0 and lines[start - 1].lstrip().startswith("#"):
            start -= 1
        segments.append("".join(lines[start:node.end_lineno]).rstrip("\n"))
    doc = f'"""From {module}: {", ".join(names) or "(package)"}."""'
    body = "\n".join(imports) + ("\n\n\n" if imports and segments else "") + "\n\n\n".join(segments)
    return f"{doc}\n{body}\n" if body else f"{doc}\n"


def _header(module: str, names: tuple[str, ...] | None) -> str:
    source = _local_path(module, module_file(module)[1])
    what = "the whole module" if names is None else (", ".join(names) or "an empty package")
    return (f"# Generated by realnet-plugins {__version__} from realnet_plugins/{source} ({what}).\n"
            "# Do not edit: the package is the source; regenerate with `realnet submission`.\n")


def generate_library(library_name: str = LIBRARY_NAME,
                     carried: Mapping[str, tuple[str, ...] | None] | None = None) -> dict[str, str]:
    """The plugin-local package: relative file path (``realnet_lib/...``) → Python source.

    Args:
        library_name: the package's folder name inside the plugin.
        carried: what to carry, as :data:`CARRIED` (the default); a benchmark or data plugin would
            carry its own set.

    Raises:
        CarriedCodeError: ``carried`` is inconsistent with the package's code.
    """
    carried = CARRIED if carried is None else carried
    for module in carried:
        parent = module.rpartition(".")[0]
        if module != ROOT and parent not in carried:
            raise CarriedCodeError(f"{module} is carried but its package {parent} is not")
    files: dict[str, str] = {}
    for module, names in carried.items():
        path, is_package = module_file(module)
        text = path.read_text(encoding="utf-8")
        if names is not None:
            text = _pick(text, module, names)
        text = _rewrite_imports(text, module, is_package, carried)
        files[f"{library_name}/{_local_path(module, is_package)}"] = _header(module, names) + text
    _check_relative_imports(files, library_name)
    return files


def _check_relative_imports(files: dict[str, str], library_name: str) -> None:
    """Every relative import in the generated package names a generated module and a name defined there."""
    trees = {path: ast.parse(text) for path, text in files.items()}

    def top_names(path: str) -> set[str]:
        return {n for node in trees[path].body for n in _bound_names(node) + _imported_names(node)}

    for path, tree in trees.items():
        package = path.rsplit("/", 1)[0].split("/")
        for node in ast.walk(tree):
            if not (isinstance(node, ast.ImportFrom) and node.level):
                continue
            base = package[:len(package) - (node.level - 1)]
            parts = base + (node.module.split(".") if node.module else [])
            target = next((t for t in ("/".join(parts) + ".py", "/".join(parts + ["__init__.py"])) if t in files),
                          None)
            if target is None or not base or base[0] != library_name:
                raise CarriedCodeError(f"{path} line {node.lineno}: {'.' * node.level}{node.module or ''} is not "
                                       "a generated module")
            absent = [a.name for a in node.names if a.name != "*" and a.name not in top_names(target)
                      and "/".join(parts + [a.name]) + ".py" not in files]
            if absent:
                raise CarriedCodeError(f"{path} line {node.lineno} imports {', '.join(absent)} from {target}, which "
                                       "does not define it; carry it (realnet_plugins.submission.codegen.CARRIED)")


def imported_top_modules(files: dict[str, str]) -> set[str]:
    """Top-level names of every absolute import in ``files`` (module level and inside functions)."""
    found = set()
    for text in files.values():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module.split(".")[0])
    return found


def _canonical(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def requirements(files: dict[str, str]) -> list[str]:
    """``requirements.txt`` lines for the third-party distributions that ``files`` import.

    Standard-library modules and what Brain-Score provides (:data:`PROVIDED_BY_BRAINSCORE`) are left
    out; each distribution gets the version floor realnet-plugins declares for it (none when this
    package's metadata is not installed).

    Raises:
        CarriedCodeError: an imported module belongs to no installed distribution.
    """
    modules = imported_top_modules(files) - set(sys.stdlib_module_names) - {"__future__"} - PROVIDED_BY_BRAINSCORE
    owners = importlib.metadata.packages_distributions()
    try:
        declared = importlib.metadata.requires("realnet-plugins") or []
    except importlib.metadata.PackageNotFoundError:
        declared = []
    floors = {}
    for spec in declared:
        if ";" not in spec and (match := re.match(r"[A-Za-z0-9_.-]+", spec)):
            floors[_canonical(match[0])] = spec.replace(" ", "")
    lines = set()
    for module in sorted(modules):
        if module not in owners:
            raise CarriedCodeError(f"the carried code imports {module!r}, which no installed distribution provides")
        distribution = _canonical(owners[module][0])
        lines.add(floors.get(distribution, distribution))
    return sorted(lines, key=_canonical)
