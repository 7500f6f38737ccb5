"""evidence: what was measured about the models.

In: serving benchmarks, eval logs, probe runs (files, or a live endpoint through ``probe``).
Out: tidy results (``results_io``), benchmark runs and measured conversations (``importers``),
per-capability retention with intervals and paired tests (``retention``), and load-test traces of
a scenario's conversations for AIPerf to replay (``trace``).
May import: ``econ.base``, ``econ.scenario``.
"""
