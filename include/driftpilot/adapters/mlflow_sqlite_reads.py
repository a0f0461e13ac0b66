"""Registry reads straight from MLflow's SQLite store, for commands that only look (``driftpilot status``).

Importing MLflow and opening its SQLAlchemy store costs about 3 s, which is most of what a
``status`` took; the answer is a handful of rows in MLflow's own tables (aliases, version tags,
the gate record's run folder). ``SqliteRegistryReads`` reads those rows from the database file
opened read-only, and hands anything else (every write, every other read, a store that is not a
local SQLite file, or a schema it does not recognise) to the MLflow client of ``MlflowRegistry``,
so it can never answer differently from MLflow, only faster. The table and column names are those
of the pinned MLflow (``requirements.txt``); a test compares both paths on a real store.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from driftpilot.adapters.mlflow_registry import MlflowRegistry

_LIVE = "current_stage != 'Deleted_Internal'"  # MLflow's mark of a deleted version


class SqliteRegistryReads(MlflowRegistry):
    """``MlflowRegistry`` whose alias, tag and artifact reads go to the SQLite file when they can."""

    def _db(self) -> sqlite3.Connection | None:
        if not self.uri.startswith("sqlite:///"):
            return None
        path = Path(self.uri.removeprefix("sqlite:///"))
        if not path.is_file():
            return None
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]] | None:
        """The rows, or ``None`` when this store cannot be read directly (then MLflow answers)."""
        db = self._db()
        if db is None:
            return None
        try:
            with db:
                return db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError:  # not MLflow's schema (yet): let MLflow say what it is
            return None
        finally:
            db.close()

    def aliases(self, model_name: str) -> dict[str, str]:
        rows = self._rows("SELECT alias, version FROM registered_model_aliases WHERE name = ?", (model_name,))
        return super().aliases(model_name) if rows is None else {str(a): str(v) for a, v in rows}

    def version_tags(self, model_name: str, version: str) -> dict[str, str]:
        rows = self._rows(f"SELECT EXISTS (SELECT 1 FROM model_versions WHERE name = ? AND version = ? AND {_LIVE})",
                          (model_name, int(version)))
        if rows is None or not rows[0][0]:
            return super().version_tags(model_name, version)  # MLflow raises its own "not found"
        tags = self._rows("SELECT key, value FROM model_version_tags WHERE name = ? AND version = ?",
                          (model_name, int(version)))
        return super().version_tags(model_name, version) if tags is None else {str(k): str(v) for k, v in tags}

    def search_versions(self, model_name: str, tag: str, value: str) -> list[str]:
        rows = self._rows(
            "SELECT t.version FROM model_version_tags t JOIN model_versions v ON v.name = t.name AND v.version = t.version "
            f"WHERE t.name = ? AND t.key = ? AND t.value = ? AND v.{_LIVE}", (model_name, tag, value))
        return super().search_versions(model_name, tag, value) if rows is None else sorted((str(r[0]) for r in rows), key=int)

    def read_run_artifact(self, run_id: str, artifact_path: str) -> bytes | None:
        rows = self._rows("SELECT artifact_uri FROM runs WHERE run_uuid = ?", (run_id,))
        uri = urlparse(str(rows[0][0])) if rows else None
        if uri is None or uri.scheme not in ("", "file") or ".." in Path(artifact_path).parts:
            return super().read_run_artifact(run_id, artifact_path)
        file = Path(unquote(uri.path)) / artifact_path
        return file.read_bytes() if file.is_file() else None
