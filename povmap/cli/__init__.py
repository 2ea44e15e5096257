"""The ``povmap`` command: the data store and datasets (``data …``) and every figure a page shows
(``query``, ``profile``, ``compare``, ``pilot``), read through the same data source as the app.

Errors are one line in English and one in Thai on standard error, exit code 2; never a traceback.
May import everything in :mod:`povmap`; nothing imports it.
"""
from __future__ import annotations

import argparse
import os
import sys

from povmap.cli import data, figures


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="povmap", description="Thailand poverty map: data store and figures.")
    sub = p.add_subparsers(dest="command", required=True)
    data.add_parsers(sub)
    figures.add_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from povmap.core.errors import PovmapError
    from povmap.core.households import HouseholdFileError
    from povmap.data.sources import SourceError
    from povmap.data.store import StoreError

    try:
        return args.run(args)
    except BrokenPipeError:  # the reader stopped early (`| head`): not an error of ours, and nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (PovmapError, StoreError, SourceError) as exc:
        print(f"povmap: {exc.message('en')}\npovmap: {exc.message('th')}", file=sys.stderr)
        return data.REFUSED
    except (OSError, HouseholdFileError) as exc:
        print(f"povmap: {exc}", file=sys.stderr)
        return data.REFUSED
