"""The demo: bundled real datasets replayed as production traffic, with seeded incidents.

A client of the product: it uses driftpilot's public functions and is never imported by it."""
