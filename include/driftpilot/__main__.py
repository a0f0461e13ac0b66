from driftpilot.cli import main

raise SystemExit(main())
