"""`python -m accessgov`."""

from accessgov.cli import main

main()
