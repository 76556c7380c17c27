"""``python -m ecodss.service serve|keys ...`` (the same commands as ``ecodss serve|keys``)."""

import argparse
import sys

from .cli import add_parser


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecodss.service")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
