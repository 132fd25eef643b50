"""``python -m helpers`` = the ``kundenwert`` command."""

import sys

from .cli import main

sys.exit(main())
