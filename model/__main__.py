"""``python -m model predict ...``: see ``model.cli``."""

import sys

from model.cli import main

sys.exit(main())
