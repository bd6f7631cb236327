"""``python -m model predict ...``: see ``model.cli``."""

import sys

from model.cli import main

if __name__ == "__main__":  # worker processes of a batch import this module without running it
    sys.exit(main())
