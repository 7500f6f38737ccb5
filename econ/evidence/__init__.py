"""evidence: what was measured about the models.

In: serving benchmarks, eval logs, probe runs (files, or a live endpoint through ``probe``).
Out: tidy results (``results_io``), benchmark runs (``importers``) and per-capability retention
with intervals and paired tests (``retention``).
May import: ``econ.base``, ``econ.scenario``.
"""
