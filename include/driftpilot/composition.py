"""The composition root: the one place that picks adapter implementations from settings.

DAG tasks, the CLI and the demo call ``build_ports(settings)`` and hand the result to a use case.
Nothing else constructs an adapter. Importing this module is cheap (the ports and adapters are
imported by the functions that build them), so the serving helper can use it from a user's
serving process.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from driftpilot.adapters.lake_files import LakeFiles
    from driftpilot.ports import Ports
    from driftpilot.settings import Settings


def build_ports(settings: Settings) -> Ports:
    """The production implementations of every port for ``settings``.

    Adapters connect lazily (the MLflow client on first use), so building the bundle is cheap
    and imports no heavy library until a port is used.
    """
    from driftpilot.adapters.alert_channels import AlertChannels
    from driftpilot.adapters.evidently import EvidentlyReports
    from driftpilot.adapters.gx_validation import GxValidator
    from driftpilot.adapters.mlflow_registry import MlflowRegistry
    from driftpilot.adapters.parquet_lake import LocalWorkFiles, ParquetLake
    from driftpilot.adapters.sqlite_store import SqliteEvidenceStore
    from driftpilot.adapters.trainer_plugins import PluginTrainer
    from driftpilot.ports import Ports

    lake = ParquetLake(settings.lake)
    store = SqliteEvidenceStore(settings.metrics_db)  # one store: the alert deliveries are evidence too
    return Ports(
        settings=settings,
        lake=lake,
        validator=GxValidator(lake),
        files=LocalWorkFiles(settings.home / "tmp"),
        registry=MlflowRegistry(settings),
        trainer=PluginTrainer(),
        alerts=AlertChannels(settings, store),
        store=store,
        reports=EvidentlyReports(),
    )


def build_read_ports(settings: Settings) -> Ports:
    """``build_ports`` for commands that only look (``driftpilot status``): registry reads skip MLflow's import."""
    import dataclasses

    from driftpilot.adapters.mlflow_sqlite_reads import SqliteRegistryReads

    return dataclasses.replace(build_ports(settings), registry=SqliteRegistryReads(settings))


def build_lake_files(lake: Path | str) -> LakeFiles:
    """Whole-file publishing into the lake at ``lake`` (the serving helper's writer).

    A local folder today; an object-store lake (issue 12) picks a ``pyarrow.fs`` filesystem here.
    A URI is refused rather than turned into a local folder named ``s3:``.
    """
    from driftpilot.adapters.lake_files import LakeFiles
    from driftpilot.errors import ConfigError

    if "://" in str(lake):
        raise ConfigError(f"lake {str(lake)!r}: only a local (or mounted) folder is supported for now; "
                          "pass its path (object-store lakes are not built yet)")
    return LakeFiles(Path(lake))
