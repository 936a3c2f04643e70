"""The ``dedup`` command (and ``python -m dedup``).

A Ctrl-C while the command's modules load (numpy, datasketch: a quarter of a second) ends it
as one during the run does, with click's "Aborted!" and status 1, not a traceback.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from .cli import cli
    except KeyboardInterrupt:
        print("Aborted!", file=sys.stderr)
        raise SystemExit(1) from None
    cli()


if __name__ == "__main__":
    main()
