"""``python -m cnnscratch``: see :mod:`cnnscratch.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
