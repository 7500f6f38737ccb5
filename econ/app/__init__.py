"""app: the Streamlit planning-session app, one module per tab.

In: widget state (``state`` holds every session-state key). Out: pixels. Every figure comes from
the layers below through the same functions the CLI calls; there is no arithmetic here.
May import: every econ layer and Streamlit. ``app.py`` at the repository root only calls
:func:`econ.app.main.main` (Streamlit needs a script file to run).
"""
