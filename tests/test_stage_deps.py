"""Every DVC stage depends on the code it runs: a module its entry point imports (directly or through other
modules, also inside functions) that no dependency of the stage covers would let ``kwal run`` keep stale
outputs after that module changed (a fixed pseudonymiser rule that never reaches the fragments)."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "kwalitatief"
PIPELINE = ROOT / "pipeline"


def _module_file(path: Path) -> Path | None:
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return None


def _package_dir(path: Path) -> Path | None:
    """The package folder a module's relative imports start from (None outside src/kwalitatief)."""
    return path.parent if SRC in path.parents or path.parent == SRC else None


def imported_files(path: Path) -> set[Path]:
    """The kwalitatief modules and pipeline scripts ``path`` imports anywhere in its code, and the
    ``__init__.py`` of every package on the way."""
    found: set[Path] = set()
    package = _package_dir(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        candidates: list[Path] = []
        if isinstance(node, ast.ImportFrom):
            if node.level and package is not None:
                base = package
                for _ in range(node.level - 1):
                    base = base.parent
                module = base.joinpath(*node.module.split(".")) if node.module else base
            elif node.module and node.module.split(".")[0] == "kwalitatief":
                module = SRC.joinpath(*node.module.split(".")[1:])
            elif node.module and not node.level:
                module = PIPELINE / node.module
            else:
                continue
            candidates = [module] + [module / alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                candidates.append(SRC.joinpath(*parts[1:]) if parts[0] == "kwalitatief" else PIPELINE / alias.name)
        for candidate in candidates:
            file = _module_file(candidate)
            if file is not None:
                found.add(file)
                for parent in file.parents:
                    if parent == SRC.parent:
                        break
                    if (parent / "__init__.py").is_file():
                        found.add(parent / "__init__.py")
    return found


def stage_code(script: Path) -> set[Path]:
    seen: set[Path] = set()
    todo = [script]
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo.extend(imported_files(path))
    return seen


def test_every_stage_depends_on_all_the_code_it_imports():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    problems = []
    for name, stage in stages.items():
        script = ROOT / stage["cmd"].split()[-1]
        assert script.is_file(), f"stage {name}: {script} not found"
        deps = [ROOT / dep for dep in stage.get("deps") or []]
        code = stage_code(script)
        assert len(code) > 5, f"stage {name}: the import walk found only {code}"
        for path in sorted(code):
            if not any(path == dep or dep in path.parents for dep in deps):
                problems.append(f"stage {name} runs {path.relative_to(ROOT)} but does not depend on it")
    assert not problems, "\n".join(problems)


def test_the_import_walk_follows_relative_absolute_and_function_level_imports(tmp_path):
    files = {p.relative_to(ROOT).as_posix() for p in stage_code(SRC / "pseudonymise.py")}
    assert {"src/kwalitatief/name_rules.py", "src/kwalitatief/__init__.py"} <= files
    walked = {p.relative_to(ROOT).as_posix() for p in stage_code(PIPELINE / "prepare.py")}
    assert {"pipeline/_common.py", "src/kwalitatief/pseudonymise.py", "src/kwalitatief/pdf.py"} <= walked
