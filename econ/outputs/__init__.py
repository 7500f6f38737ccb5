"""outputs: numbers turned into text, tables, files and chart specs.

In: evaluations and decisions. Out: the text and JSON reports (``report``), tier-pricing exports
(``export``), Vega-Lite chart specs (``charts``) and the results comparison (``compare``).
May import: every layer below (``base`` … ``decisions``); only this layer, ``econ.cli`` and the
app may format for people.
"""
