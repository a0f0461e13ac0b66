"""The demo is a client of the product: nothing in the product (or its DAGs and plugins) imports it.

(The full layering rules are enforced by test_layering.py; this is the demo's part of them.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = [ROOT / "include" / "driftpilot", ROOT / "dags", ROOT / "plugins"]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", [p for root in PRODUCT for p in sorted(root.rglob("*.py"))], ids=str)
def test_product_module_does_not_import_the_demo(path: Path) -> None:
    demo = sorted(n for n in _imports(path) if n == "driftpilot_demo" or n.startswith("driftpilot_demo."))
    assert not demo, f"{path.relative_to(ROOT)} imports {demo}: the product must not depend on the demo"


def test_product_ships_no_demo_data_or_settings() -> None:
    """Bundled datasets and demo settings live in the demo package, not next to the product's configs."""
    assert not (ROOT / "include" / "data").exists()
    assert (ROOT / "include" / "driftpilot_demo" / "data" / "SOURCES.md").exists()
    for path in (ROOT / "include" / "config").glob("*.yaml"):
        text = path.read_text()
        assert "\nsource:" not in text and "\nreplay:" not in text, path
