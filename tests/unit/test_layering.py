"""The folder tree is the architecture: this test keeps each layer to what it may import.

- ``driftpilot.domain`` is pure: no I/O library, no adapter, no use case, no port implementation.
- Only ``driftpilot.adapters`` import the third-party libraries that do I/O or that a user may swap
  (MLflow, Evidently, GX, scikit-learn, SQLite, pyarrow's filesystems and Parquet files, HTTP).
- ``driftpilot.usecases`` talk to ports and the domain, never to an adapter.
- Nothing in the product imports the demo, and nothing imports Airflow (see test_no_airflow.py).

Imports are read from the source (``ast``), including imports inside functions, so a lazy import
cannot hide a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

INCLUDE = Path(__file__).resolve().parents[2] / "include"
PRODUCT = INCLUDE / "driftpilot"

# Libraries that only an adapter may import (prefix match on the dotted module name).
ADAPTER_ONLY = (
    "mlflow", "evidently", "great_expectations", "sklearn", "skops", "sqlite3",
    "pyarrow.fs", "pyarrow.parquet", "pyarrow.dataset", "fsspec", "s3fs", "boto3",
    "psycopg", "psycopg2", "sqlalchemy", "urllib.request", "requests", "httpx",
)
# Beyond that, the domain does no I/O at all.
DOMAIN_FORBIDDEN = (*ADAPTER_ONLY, "driftpilot.adapters", "driftpilot.usecases", "driftpilot.composition",
                    "driftpilot.cli", "driftpilot_demo", "shutil", "tempfile", "subprocess", "socket")


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports, with ``from x import y`` also giving ``x.y``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def _matches(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _offenders(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(INCLUDE)} imports {name}"
        for path in folder.rglob("*.py")
        for name in set(_imports(path))
        if _matches(name, forbidden)
    )


def test_the_domain_does_no_io_and_knows_no_adapter() -> None:
    assert _offenders(PRODUCT / "domain", DOMAIN_FORBIDDEN) == []


def test_only_adapters_import_the_swappable_libraries() -> None:
    outside = [p for p in PRODUCT.rglob("*.py") if "adapters" not in p.relative_to(PRODUCT).parts]
    offenders = sorted(
        f"{path.relative_to(INCLUDE)} imports {name}"
        for path in outside
        for name in set(_imports(path))
        if _matches(name, ADAPTER_ONLY)
    )
    assert offenders == []


def test_use_cases_reach_adapters_only_through_ports() -> None:
    assert _offenders(PRODUCT / "usecases", ("driftpilot.adapters", "driftpilot.composition", "driftpilot_demo")) == []


def test_use_cases_make_no_files_of_their_own() -> None:
    """Scratch folders come from ``WorkFiles.scratch``: a use case never imports ``tempfile`` or ``shutil``."""
    assert _offenders(PRODUCT / "usecases", ("tempfile", "shutil")) == []


def test_the_product_never_imports_the_demo() -> None:
    assert _offenders(PRODUCT, ("driftpilot_demo",)) == []


def test_only_the_composition_root_and_the_cli_build_adapters() -> None:
    """Adapters are constructed in one place; the CLI is a shell that calls it."""
    allowed = {PRODUCT / "composition.py", PRODUCT / "cli.py"}
    outside = [p for p in PRODUCT.rglob("*.py")
               if "adapters" not in p.relative_to(PRODUCT).parts and p not in allowed]
    offenders = sorted(
        f"{path.relative_to(INCLUDE)} imports {name}"
        for path in outside
        for name in set(_imports(path))
        if _matches(name, ("driftpilot.adapters",))
    )
    assert offenders == []


@pytest.mark.parametrize("folder", ["domain", "adapters", "usecases"])
def test_each_layer_is_a_package_with_a_docstring(folder: str) -> None:
    init = PRODUCT / folder / "__init__.py"
    assert init.exists() and ast.get_docstring(ast.parse(init.read_text()))


def test_the_checker_sees_lazy_imports(tmp_path: Path) -> None:
    """A guard against a blind test: an import inside a function is found."""
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from mlflow import MlflowClient\n    import sqlite3\n")
    assert {"mlflow", "mlflow.MlflowClient", "sqlite3"} <= set(_imports(module))
