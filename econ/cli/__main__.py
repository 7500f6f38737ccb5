import sys

from econ.cli.main import main

sys.exit(main())
