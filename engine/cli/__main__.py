"""``python -m engine.cli``: the same as the ``tether`` console script."""

from engine.cli.main import main

main()
