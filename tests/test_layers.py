"""The import-linter contracts (pyproject.toml, run by ``make lint``) see the root package's lazy
re-exports only through its TYPE_CHECKING block: these tests keep that block complete."""

import ast
import tomllib
from pathlib import Path

import pricing

ROOT = Path(pricing.__file__).parent


def _type_checking_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in ast.walk(node):
                if isinstance(statement, ast.ImportFrom) and statement.module:
                    found.add(statement.module)
    return found


def test_root_names_every_module_it_loads_lazily_for_the_contracts():
    named = _type_checking_imports(ROOT / "__init__.py")
    loaded = set(pricing._TYPES.values())
    assert loaded - named == set()


def test_every_subpackage_is_in_a_layer_of_the_contract():
    config = tomllib.loads((ROOT.parent / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    in_layers = {name.strip() for layer in layers for name in layer.split("|")}
    packages = {f"pricing.{p.name}" for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    assert packages - in_layers == set()
    assert "pricing.api" in in_layers
