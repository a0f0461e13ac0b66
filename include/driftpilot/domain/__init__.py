"""The pure core: contracts, categories, profiles, drift statistics, labels, policy, gate.

Nothing here does I/O or imports an adapter; ``tests/unit/test_layering.py`` enforces it.
"""
