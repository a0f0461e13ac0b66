"""Every public function and method of the product has a caller in the product.

Code nobody calls still has to be read, typed, kept true to the docs and migrated; a port
method nobody calls is a promise every implementation (and fake) must keep for nothing. The
callers counted are the product's own modules, the DAGs, the plugins, the demo, the scripts and
the benchmarks, read with ``ast`` (a name, an attribute, an import or a string such as an
``__all__`` entry); tests do not count: a function only tests call is dead code with a test.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ROOT / "include" / "driftpilot"
UI = ROOT / "include" / "driftpilot_ui"
CALLERS = (PRODUCT, UI, ROOT / "include" / "driftpilot_demo", ROOT / "dags", ROOT / "plugins", ROOT / "scripts",
           ROOT / "benchmarks")

# Public names that stay without a caller in the product, and why.
KEPT = {
    "DriftpilotReportsPlugin": "found by Airflow's plugin manager, never named",
    "champion_baseline": "port read used by the integration and e2e tests to inspect the registry",
    "retrain_requests": "the outbox's read side (EvidenceStore), what an operator or a test inspects",
    "alert_deliveries": "the alert deliveries' read side (EvidenceStore), likewise",
    "stats_from_frame": "the in-memory form of the streamed drift statistics, the reference the tests hold them to",
    "operational_metrics": "the in-memory form of the streamed operational metrics, likewise",
    "check_inference_log": "the inference-log contract as one function, for writers of logs",
    "metric_part": "how a metric id is split, the unit the Evidently parser tests pin",
    "rows_written": "the serving helper's public result (LoggedBatch), read by the user's serving code",
    "X": "TrainingData.X: part of the trainer contract, for the user's trainers (README 'Retrain with your own code')",
}


def _referenced(callers: tuple[Path, ...] = CALLERS) -> set[str]:
    names: set[str] = set()
    for folder in callers:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Name):
                    names.add(node.id)
                elif isinstance(node, ast.Attribute):
                    names.add(node.attr)
                elif isinstance(node, ast.alias):
                    names.add(node.name.rsplit(".", 1)[-1])
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    names.add(node.value)
    return names


def _defined(folder: Path) -> list[tuple[str, str]]:
    """(where, name) of every public module-level function and class and every public method."""
    found: list[tuple[str, str]] = []
    for path in sorted(folder.rglob("*.py")):
        where = str(path.relative_to(folder.parent))
        for node in ast.parse(path.read_text(), filename=str(path)).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                found.append((where, node.name))
            if isinstance(node, ast.ClassDef):
                found += [(f"{where}:{node.name}", item.name) for item in node.body
                          if isinstance(item, ast.FunctionDef) and not item.name.startswith("_")]
    return found


def _uncalled(folders: tuple[Path, ...], callers: tuple[Path, ...], kept: set[str]) -> list[str]:
    referenced = _referenced(callers) | kept
    return [f"{where}: {name}" for folder in folders for where, name in _defined(folder) if name not in referenced]


def test_every_public_function_and_method_has_a_caller() -> None:
    uncalled = _uncalled((PRODUCT, UI, ROOT / "plugins"), CALLERS, set(KEPT))
    assert uncalled == [], "no caller in the product: remove it, or say in KEPT why it stays"


def test_what_is_kept_is_still_there() -> None:
    """A name in KEPT that no longer exists is a stale excuse."""
    defined = {name for folder in (PRODUCT, UI, ROOT / "plugins") for _, name in _defined(folder)}
    assert sorted(set(KEPT) - defined) == []


def test_the_checker_sees_an_uncalled_function(tmp_path: Path) -> None:
    """A guard against a blind test: a function nobody names is reported."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("def used():\n    return 1\n\n\nclass C:\n    def gone(self):\n        return 2\n")
    (tmp_path / "caller.py").write_text("from pkg.m import used\nused()\nC = 1\n")
    assert _uncalled((tmp_path / "pkg",), (tmp_path,), set()) == ["pkg/m.py:C: gone"]
