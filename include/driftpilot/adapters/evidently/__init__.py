"""Evidently adapter: the human-readable drift, data-quality and performance reports of a window.

driftpilot's own drift statistics (exact, over every row) decide; this package renders what a
person reads and extracts flat metric rows of what Evidently found. One module per step:

    methods.py   the drift methods Evidently implements and how each reads (pure; checks config)
    plan.py      which columns, which method each (pure)
    run.py       frames as Evidently wants them, reports built and run (the only Evidently import)
    parse.py     snapshot dict -> typed metric rows (pure)
    render.py    banner, inert HTML, the window's index page from typed state (pure)
    renderer.py  ``EvidentlyReports``, the ``ReportRenderer`` port: each step writes its own files
"""

from driftpilot.adapters.evidently.renderer import EvidentlyReports

__all__ = ["EvidentlyReports"]
