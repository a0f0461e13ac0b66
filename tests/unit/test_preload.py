"""The preload module covers what the task adapters import, and importing it starts no thread.

``driftpilot.adapters.preload`` is what Airflow's fork server imports before it starts the
LocalExecutor's workers (``mp_forkserver_preload``); a module an adapter imports that the list
misses would be imported again by every task, which is the cost the preload exists to remove.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from driftpilot.adapters import preload

ADAPTERS = Path(__file__).resolve().parents[2] / "include" / "driftpilot" / "adapters"
HEAVY = ("great_expectations", "evidently", "mlflow", "sklearn", "skops")


def _heavy_imports() -> set[str]:
    """Every module of the heavy libraries that an adapter imports (lazily or not)."""
    found: set[str] = set()
    for path in ADAPTERS.rglob("*.py"):
        if path.name == "preload.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            found |= {n for n in names if n.split(".")[0] in HEAVY}
    return found


def test_every_heavy_module_an_adapter_imports_is_preloaded() -> None:
    imported = _heavy_imports()
    assert {"great_expectations", "evidently", "mlflow"} <= {m.split(".")[0] for m in imported}
    assert sorted(imported - set(preload.LIBRARY_MODULES)) == []


def test_importing_it_loads_them_all_and_starts_no_thread() -> None:
    code = (
        "import json, sys, threading\n"
        "import driftpilot.adapters.preload as p\n"
        "missing = [m for m in (*p.LIBRARY_MODULES, *p.DRIFTPILOT_MODULES) if m not in sys.modules]\n"
        "print(json.dumps({'missing': missing, 'threads': threading.active_count()}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"missing": [], "threads": 1}
