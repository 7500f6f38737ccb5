"""scenario: what a planning session writes down, and how it is read and saved.

In: YAML text. Out: the validated, frozen pydantic ``Scenario`` (``schema``), line-numbered parsing
(``yamlio``), round-trip edits and conflict-safe saves (``edits``, ``store``), git revisions
(``gitrev``) and the tokens of a conversation shape (``conversation``).
May import: ``econ.base``.
"""
