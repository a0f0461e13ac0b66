"""Tests are clients of the product like the demo: they bootstrap from the bundled datasets.

``bootstrap_from_bundled`` is the one way a test trains a model's first champion: the training
period of the demo dataset, handed to the product's ``bootstrap_champion`` as training data.
"""

from __future__ import annotations

from typing import Any


def bootstrap_from_bundled(config: Any, ports: Any, demo_model: str | None = None) -> Any:
    """The product's bootstrap of ``config`` on the training period of ``demo_model``'s dataset.

    ``demo_model`` (default: ``config.name``) names the demo settings to take the data from, for a
    test model derived from a demo model (e.g. ``elec2_badinput`` from ``elec2_updown``).
    """
    from driftpilot_demo.config import demo_spec
    from driftpilot_demo.traffic import bootstrap_demo

    return bootstrap_demo(config, ports, demo_spec(demo_model or config.name))
