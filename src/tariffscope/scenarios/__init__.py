"""Scenarios: tariff changes from a base regime, resolved into rates per line and run through the PE model.

Modules:

- ``schema``: the scenario file schema (``Scenario``, changes, outputs) and its loading and validation.
- ``resolve``: a scenario's regime as rates per HTS10 x origin line (duty panel, catalogue measures).
- ``run``: built-in scenarios, the PE problem as arrays, the Monte Carlo, ``simulate`` and ``compare``.
- ``outcomes``: the named headline outcomes (``Headline``), their labels, and the two kernels computing them.
- ``results``: ``SimulationResult`` and ``ComparisonResult``, headline records with bands, sources, assumptions.
- ``panel_run``: runs on a world panel's flows (any importer, explicit rate changes only).
- ``builtin/``: the built-in scenario files (YAML).
"""
