"""Allow `python -m tocsin` as an alias of the `tocsin` command."""

from tocsin.entrypoints.cli import main

main()
