"""``python -m mixtheory.cli``: the same as the ``mixtheory`` command."""

import sys

from . import main

sys.exit(main())
