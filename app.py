"""econ planning-session app: tick the capabilities you consent to lose, watch every price floor.

    streamlit run app.py

Streamlit needs a script file; the app itself is the package :mod:`econ.app`, one module per tab.
"""

from econ.app.main import main

main()
