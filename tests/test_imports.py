"""The package's imports keep its shape: they stack in one direction, and only the command-line
layer (and the heavy libraries) are imported inside functions."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).parents[1] / "src" / "wai"

# The libraries that cost start-up time out of proportion to how often they are needed, so any
# module may import them where they are used. (tests/test_startup.py checks that the light
# commands never load them.)
HEAVY_LIBRARIES = (
    "httpx",
    "httpx_sse",
    "rich",
    "pygments",
    "prompt_toolkit",
    "tomllib",  # only when there is a config file
    "tomli_w",  # only when the config file is written
    "platformdirs",  # only when WAI_CONFIG_DIR / WAI_DATA_DIR do not say where
    "email.utils",  # only for a Retry-After given as a date
    "wai.backends.transport",  # wai's httpx transport: importing it is importing httpx
    "jsonschema",  # only to check an answer against --schema
)

# Lowest first: a module imports only from its own layer or the ones before it.
LAYERS = (
    ("wai.errors", "wai.atomic", "wai.signals", "wai.visible"),
    ("wai.environment", "wai.settings"),
    ("wai.backends",),
    ("wai.render",),
    ("wai.conversation",),
    ("wai.repl",),
    ("wai.cli", "wai.__main__"),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    if module == "wai":
        return 0  # the package itself: its version, nothing else
    for index, layer in enumerate(LAYERS):
        if any(module == top or module.startswith(f"{top}.") for top in layer):
            return index
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def imports(tree: ast.AST) -> Iterator[tuple[ast.stmt, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node, node.module


def in_functions(tree: ast.AST) -> set[ast.stmt]:
    found: set[ast.stmt] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.update(inner for inner, _ in imports(node))
    return found


MODULES = sorted(SOURCE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda path: module_name(path))
def test_imports_never_run_back_up_the_layers(path: Path) -> None:
    module = module_name(path)
    upward = [
        name
        for _, name in imports(ast.parse(path.read_text()))
        if name.startswith("wai.") and layer_of(name) > layer_of(module)
    ]
    assert upward == [], f"{module} imports from a higher layer"


@pytest.mark.parametrize("path", MODULES, ids=lambda path: module_name(path))
def test_only_the_command_line_layer_imports_inside_functions(path: Path) -> None:
    module = module_name(path)
    if layer_of(module) == len(LAYERS) - 1:
        return  # cli/: a command imports what it needs, so that `wai --help` loads none of it
    tree = ast.parse(path.read_text())
    late = [
        name
        for node, name in imports(tree)
        if node in in_functions(tree)
        and not any(name == heavy or name.startswith(f"{heavy}.") for heavy in HEAVY_LIBRARIES)
    ]
    assert late == [], f"{module} imports these inside functions: move them to the top"
