"""model: money. Cost per conversation, plans, tiers, loss and the whole evaluation.

In: a validated scenario plus its evidence. Out: cost tables (``cost``, ``fit``, ``prices``),
plan costs (``plans``), tier economics (``tiers``), capability loss (``loss``) and the frozen
``Evaluation`` (``evaluate``); ``loader`` assembles a scenario with its measurements from disk.
May import: ``econ.base``, ``econ.scenario``, ``econ.evidence``.
"""
