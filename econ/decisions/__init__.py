"""decisions: the questions a planning session asks of an evaluation.

In: a scenario and its ``Evaluation``. Out: the exact consent frontier (``frontier``), Monte Carlo
intervals (``uncertainty``), one-at-a-time sensitivity (``sensitivity``), payback (``payback``) and
what moved between two versions (``scenario_diff``).
May import: ``econ.base``, ``econ.scenario``, ``econ.evidence``, ``econ.model``.
"""
