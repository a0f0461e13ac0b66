"""What driftpilot does, step by step: monitor a window, retrain, promote, bootstrap, browse.

Use cases combine the pure domain with the ports; the composition root picks the adapters."""
