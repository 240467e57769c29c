"""`python -m skp_desktop.cli`: the same as the `skp-returns` console script."""

from skp_desktop.cli.main import main

raise SystemExit(main())
