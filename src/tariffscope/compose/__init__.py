"""Composition above the domain: where one domain area's results feed another's model.

Layers (enforced by tests/test_layers.py): data (config, errors, db, codes, ingest) -> domain (tariffs,
trade, models, panels, parallel, scenarios) -> compose (this package: engine rates into the GE, duty panels
into scenarios, the backtest, sweeps) -> api (the facade) -> front ends (cli, clicmd, report, web).
Nothing below this package imports it; nothing below ``api`` imports ``api``.
"""
