"""The `me5-eval` subcommands: argparse and printing only; the work is done by the library modules they call.

Each module exposes `<name>_command(argv) -> exit code`; evaluation/cli.py imports one on demand, so
`me5-eval --help` and `plan` never load torch or a model.
"""
