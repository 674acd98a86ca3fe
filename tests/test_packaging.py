"""The package declares what it imports, asks for a Python its dependencies accept, and a build backend
that understands its metadata."""
from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
BUILD = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules() -> set[str]:
    found = set()
    for path in (ROOT / "ner_lstm").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"ner_lstm"}


def names(requirements: list[str]) -> set[str]:
    return {normalise(Requirement(r).name) for r in requirements}


def providers(module: str) -> set[str]:
    return {normalise(d) for d in importlib.metadata.packages_distributions().get(module, [module])}


def test_every_imported_package_is_declared():
    declared = names(PROJECT["dependencies"]).union(*map(names, PROJECT["optional-dependencies"].values()))
    for module in sorted(imported_modules()):
        assert providers(module) & declared, f"{module} is imported but none of {providers(module)} is declared"


def test_every_optional_module_belongs_to_the_extra_its_error_names():
    from ner_lstm.extras import EXTRAS

    for extra, modules in EXTRAS.items():
        for module in modules:
            assert providers(module) & names(PROJECT["optional-dependencies"][extra]), (module, extra)
    base = names(PROJECT["dependencies"])
    optional = {m for modules in EXTRAS.values() for m in modules}
    for module in imported_modules() - optional:
        assert providers(module) & base, f"{module} is imported but is neither a base dependency nor in EXTRAS"


def test_requires_python_is_accepted_by_every_dependency():
    floor = re.match(r">=\s*([\d.]+)", PROJECT["requires-python"]).group(1)
    for requirement in PROJECT["dependencies"] + PROJECT["optional-dependencies"]["train"]:
        name = Requirement(requirement).name
        needs = importlib.metadata.metadata(name).get("Requires-Python")
        if needs:
            assert SpecifierSet(needs).contains(floor), f"{name} needs Python {needs}; requires-python allows {floor}"


def test_build_backend_understands_the_license_field():
    if isinstance(PROJECT.get("license"), str):  # PEP 639 SPDX expression: setuptools 77 or newer
        setuptools = next(Requirement(r) for r in BUILD["requires"] if Requirement(r).name == "setuptools")
        assert not setuptools.specifier.contains("76.9"), setuptools
