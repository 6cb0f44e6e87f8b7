"""``python -m wxmember`` runs the CLI."""

from wxmember.cli import main

main()
