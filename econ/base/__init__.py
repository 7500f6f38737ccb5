"""base: the foundations every other layer stands on.

In: nothing of econ. Out: the error types (``EconError``, ``ScenarioError``), atomic file writing,
number formatting, probe graders and the statistics (intervals, paired tests, power).
May import: the standard library and numpy/scipy only; never another econ subpackage.
"""
