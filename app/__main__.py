"""``python -m app`` starts the studio."""

import sys

from .main import main

sys.exit(main())
