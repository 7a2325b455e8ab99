"""`python -m scjax.cli ...` is `scjax ...` (the Makefile's demo target uses it)."""

import sys

from . import main

sys.exit(main())
