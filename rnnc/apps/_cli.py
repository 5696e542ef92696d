"""What the apps' command lines share: argparse types that refuse out-of-range values,
and UsageError, which main() turns into an argparse error (usage line, message, exit 2)
instead of a traceback."""
import argparse
import json
import math


class UsageError(ValueError):
    """A flag's value cannot work with the data it names (a text too short for
    --batch-size, a --data file too small to split); the message names the flag."""


def _int_at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _int_at_least(text, 1)


def nonnegative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _int_at_least(text, 0)


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def nonnegative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    value = _finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value:g}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {value:g}")
    return value


def dropout_rate(text: str) -> float:
    """argparse type: a probability in [0, 1)."""
    value = _finite_float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {value:g}")
    return value


def parser(prog: str, doc: str) -> argparse.ArgumentParser:
    """An app's parser: the first line of its module docstring as the description, the
    rest (usage examples, what it does, its outputs) as the epilog of --help."""
    first, _, rest = doc.partition("\n")
    return argparse.ArgumentParser(prog=prog, description=first, epilog=rest,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def jsonable(obj):
    """Plain Python numbers, lists and dicts (for checkpoint extras and JSON files)."""
    return json.loads(json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def run_app(build_parser, run, argv=None):
    """Parse argv with the app's parser and call run(args): a UsageError from the run
    (a flag that cannot work with this data) becomes an argparse error (SystemExit 2,
    the message on stderr); --threads, where given, is applied first."""
    p = build_parser()
    args = p.parse_args(argv)
    if getattr(args, "distributed", False):
        from rnnc import distributed as dist
        dist.init_for_app(args.threads)
    if args.threads is not None:
        import rnnc
        rnnc.set_num_threads(args.threads)
    try:
        return run(args)
    except UsageError as exc:
        p.error(str(exc))
