"""``python -m freeenergy`` is the ``freeenergy`` command."""

from freeenergy.cli import main

raise SystemExit(main())
