"""The seams a user's world plugs into: ``typing.Protocol`` ports, and the bundle use cases take.

Use cases (``driftpilot.usecases``) talk to these ports only; ``driftpilot.composition`` builds
the implementations from the deployment settings, and unit tests pass fakes
(``tests/fakes.py``). Each port has one implementation per third-party library in
``driftpilot.adapters``.
"""

from __future__ import annotations

from dataclasses import dataclass

from driftpilot.settings import Settings


@dataclass(frozen=True)
class Ports:
    """Everything a use case may reach outside the pure domain, built once per task.

    ``settings`` stays for the values that are deployment facts (paths, limits); the I/O goes
    through the ports below as they are introduced.
    """

    settings: Settings
