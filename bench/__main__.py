"""`python -m bench --ai-rows N [--repeat K] [--only attention]`: the benchmark's command line (with the product
command line's one-line errors and exit codes)."""
from __future__ import annotations

import argparse
import sys

from usage_analytics import config
from usage_analytics.__main__ import Parser, UsageError, run, say

from . import timing

DESCRIPTION = ("time each page's data path on a generated large dataset, next to pandas and polars; the dataset "
               "is kept under STATE_DIR/bench/")


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m bench", description=DESCRIPTION)
    parser.add_argument("--ai-rows", type=int, required=True, help="managed-AI usage rows to generate, e.g. 10000000")
    parser.add_argument("--repeat", type=int, default=11,
                        help="runs per warm median (default 11; the baselines of all customers' rows a third as many)")
    parser.add_argument("--only", choices=timing.ONLY,
                        help="time only these rows (attention: issue 16's, on the store file as found)")
    return parser


def _bench(args: argparse.Namespace) -> int:
    """Run the benchmark and print its table."""
    if args.ai_rows < 1000 or args.repeat < 1:
        raise UsageError("--ai-rows needs at least 1000 and --repeat at least 1")
    settings = config.load()
    timings = timing.run(args.ai_rows, settings.state_dir, args.repeat, progress=say, only=args.only)
    print(timing.table(timings, args.ai_rows))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run(lambda: _bench(_parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
