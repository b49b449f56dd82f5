"""``python -m app`` starts the studio."""

import sys

from app.main import main

sys.exit(main())
