"""``python -m bookbuild`` runs the command line."""

from .cli import main

main()
