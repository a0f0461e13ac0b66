"""The composition root: the one place that picks adapter implementations from settings.

DAG tasks, the CLI and the demo call ``build_ports(settings)`` and hand the result to a use case.
Nothing else constructs an adapter.
"""

from __future__ import annotations

from driftpilot.ports import Ports
from driftpilot.settings import Settings


def build_ports(settings: Settings) -> Ports:
    """The production implementations of every port for ``settings``."""
    from driftpilot.adapters.gx_validation import GxValidator
    from driftpilot.adapters.parquet_lake import ParquetLake

    lake = ParquetLake(settings.lake)
    return Ports(
        settings=settings,
        lake=lake,  # stream
        validator=GxValidator(lake),  # stream
    )
