"""``python -m simcse_core`` is the ``simcse`` command."""

import sys

from .cli import main

sys.exit(main())
