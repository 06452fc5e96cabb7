"""``python -m sklearn_cnntexture.cli``: the ``cnntexture`` command without its script."""

import sys

from . import main

sys.exit(main())
