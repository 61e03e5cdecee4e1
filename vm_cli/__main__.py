"""`python -m vm_cli` runs the `vm` command."""

from vm_cli.main import main

main()
