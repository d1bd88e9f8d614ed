"""Command line: ``python -m eda_helpers <command> ...`` (also installed as ``eda-helpers``).

Commands
--------
sample DIR [--studies N] [--seed S] [--clean-labels] [--overwrite] [--progress]
    Write the built-in synthetic sample dataset into DIR in the competition's layout;
    ``--clean-labels`` leaves out the planted label errors (``label_errors=False``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["main"]


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def _cmd_sample(args: argparse.Namespace) -> int:
    from .sample import make_sample_dataset

    try:
        root = make_sample_dataset(
            args.dir,
            n_studies=args.studies,
            seed=args.seed,
            label_errors=not args.clean_labels,
            overwrite=args.overwrite,
            progress=args.progress,
        )
    except OSError as exc:  # the arguments are checked by the parser: DIR is the problem
        print(f"eda_helpers sample: error: {exc}", file=sys.stderr)
        return 1
    errors = "without" if args.clean_labels else "with"
    print(
        f"wrote {args.studies} sample studies (seed {args.seed}, {errors} the planted label "
        f"errors) to {root}"
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m eda_helpers",
        description="Helpers for exploring DICOM MRI series (RSNA 2024 Lumbar Spine).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sample = commands.add_parser(
        "sample",
        help="write the synthetic sample dataset",
        description=(
            "Write a small synthetic dataset in the layout of the RSNA 2024 Lumbar Spine "
            "competition (train_images/ and the three CSV files) into DIR."
        ),
    )
    sample.add_argument("dir", metavar="DIR", type=Path, help="folder to write into")
    sample.add_argument(
        "--studies", type=_int_at_least(1), default=3, metavar="N", help="studies (default 3)"
    )
    sample.add_argument(
        "--seed", type=_int_at_least(0), default=0, metavar="S", help="random seed (default 0)"
    )
    sample.add_argument(
        "--clean-labels",
        action="store_true",
        help="leave out the planted label errors that rsna.check_labels finds",
    )
    sample.add_argument("--overwrite", action="store_true", help="replace a dataset already in DIR")
    sample.add_argument("--progress", action="store_true", help="show a progress bar")
    sample.set_defaults(run=_cmd_sample)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        0 on success, 1 when the command fails, 2 for bad arguments (the message is
        on standard error).

    Examples
    --------
    >>> main(["sample", "DIR", "--studies", "0"])  # refused before DIR is touched
    2
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on bad arguments and after --help
        return exc.code if isinstance(exc.code, int) else 1
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
