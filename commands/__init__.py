"""Sub-commands of the `deidc` CLI: each module has `register(subparsers)` and a `run(args)`."""
