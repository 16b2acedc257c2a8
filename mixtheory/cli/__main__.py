"""``python -m mixtheory.cli``: the same as the ``mixtheory`` command."""

import sys

try:
    from . import main
except KeyboardInterrupt:  # Ctrl-C while the package is still being imported: nothing has started
    print("\nmixtheory: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
