"""``python -m driftpilot_demo``: the demo's command line (see ``driftpilot_demo.cli``)."""

from driftpilot_demo.cli import main

raise SystemExit(main())
