"""Command line: ``python -m cnnscratch train`` (Part 4), ``exercise`` and ``check``.

Trains the Part 4 CNN or the Part 2 MLP on scikit-learn's 8x8 digits, shows
a progress bar with the running loss, prints the test accuracy and saves the
parameters to an ``.npz`` file that :func:`cnnscratch.checkpoint.load_parameters`
reads back. ``exercise NAME`` writes the starter file of an exercise and
``check NAME FILE.py`` grades the reader's function in it (see
:mod:`cnnscratch.exercises`). Bad options end with a one-line error and exit
status 2.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TypedDict, TypeVar

import numpy as np

from ._validate import check_choice
from .checkpoint import save_parameters
from .network import DivergenceError, Optimizer, Sequential
from .optim import SGD, Adam


class LabDefaults(TypedDict):
    """One lab's training hyper-parameters."""

    epochs: int
    batch_size: int
    lr: float


#: Hyper-parameters of the two labs; the notebooks train with the same ones.
DEFAULTS: dict[str, LabDefaults] = {
    "cnn": {"epochs": 15, "batch_size": 32, "lr": 0.01},
    "mlp": {"epochs": 30, "batch_size": 32, "lr": 0.1},
}
#: The MLP lab trains with SGD and this momentum, the CNN lab with Adam.
MLP_MOMENTUM = 0.9
#: Largest ``--epochs`` accepted: about an hour and a half of the CNN lab.
MAX_EPOCHS = 10_000


def _check_model_name(name: str) -> None:
    check_choice("name", name, sorted(DEFAULTS))


def build_model(name: str, rng: np.random.Generator) -> Sequential:
    """The architecture called ``name`` ("cnn" or "mlp"), freshly initialised."""
    from .network import digits_cnn, mlp

    _check_model_name(name)
    if name == "cnn":
        return digits_cnn(rng=rng)
    return mlp([64, 32, 10], rng=rng)


def build_optimizer(name: str, lr: float) -> Optimizer:
    """The optimiser the lab of model ``name`` uses: Adam for cnn, SGD for mlp."""
    _check_model_name(name)
    if name == "cnn":
        return Adam(lr=lr)
    return SGD(lr=lr, momentum=MLP_MOMENTUM)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not usage + error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


_Number = TypeVar("_Number", int, float)


def _number(
    kind: Callable[[str], _Number], test: Callable[[_Number], bool], what: str
) -> Callable[[str], _Number]:
    """An argparse ``type``: ``kind(text)`` if ``test`` accepts it, else an error.

    ``kind`` is ``int`` or ``float``, and the parser returns that type.
    """

    def parse(text: str) -> _Number:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not test(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return parse


positive_int = _number(int, lambda v: v >= 1, "an integer >= 1")
epochs_int = _number(
    int, lambda v: 1 <= v <= MAX_EPOCHS, f"an integer in [1, {MAX_EPOCHS}]"
)


def output_path(text: str) -> Path:
    """An argparse ``type`` for ``--output``: a file name, not a folder.

    ``Path("newdir/")`` is ``Path("newdir")``, so a trailing slash is checked
    on the text, before it is lost.
    """
    if not text or "\0" in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a file name")
    if text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(
            f"{text!r} names a folder; expected a file name such as {text}cnn.npz"
        )
    return Path(text)


seed_int = _number(int, lambda v: v >= 0, "an integer >= 0")
positive_float = _number(
    float, lambda v: math.isfinite(v) and v > 0, "a finite number > 0"
)


def make_parser() -> argparse.ArgumentParser:
    """The ``python -m cnnscratch`` parser, with its one command, ``train``."""
    parser = _Parser(
        prog="python -m cnnscratch",
        description="Train the networks of 'CNNs from Scratch' on the 8x8 digits.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = commands.add_parser(
        "train",
        help="train a model and save its parameters",
        description=(
            "Train the Part 4 CNN or the Part 2 MLP on scikit-learn's 8x8 digits "
            "(a stratified 75/25 train/test split), print the test accuracy and "
            "save the parameters to an .npz file."
        ),
    )
    train.error = parser.error  # type: ignore[method-assign]
    train.add_argument(
        "--model",
        choices=sorted(DEFAULTS),
        default="cnn",
        help="the architecture (default: cnn)",
    )
    train.add_argument(
        "--epochs",
        type=epochs_int,
        help="passes over the training set (default: 15 for cnn, 30 for mlp)",
    )
    train.add_argument(
        "--batch-size", type=positive_int, help="samples per step (default: 32)"
    )
    train.add_argument(
        "--lr",
        type=positive_float,
        help=(
            "learning rate of Adam (cnn, default 0.01) or of SGD with "
            "momentum 0.9 (mlp, default 0.1)"
        ),
    )
    train.add_argument(
        "--seed",
        type=seed_int,
        default=0,
        help="seed of the initial weights, the data order and the split (default: 0)",
    )
    train.add_argument(
        "--output",
        type=output_path,
        help="where to write the parameters (default: cnn.npz or mlp.npz)",
    )
    train.add_argument(
        "--no-progress", action="store_true", help="do not draw the progress bar"
    )
    add_exercise_commands(commands, parser)
    return parser


def _check_writable(parser: argparse.ArgumentParser, path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    try:
        if path.is_dir():
            parser.error(f"--output {path} is a directory; expected a file name")
        if not folder.is_dir():
            parser.error(f"--output {path}: the folder {folder} does not exist")
        # Probe by creating files: os.access says yes to root even where the
        # file system refuses. The save writes a temporary file in the folder
        # and renames it; the name itself must be one the file system takes.
        with tempfile.TemporaryFile(dir=folder):
            pass
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            os.unlink(path)
    except OSError as error:
        parser.error(f"--output {path} is not writable ({error.strerror})")


def train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``train``: fit, print the test accuracy, save; returns the exit status."""
    from .datasets import load_digits
    from .network import accuracy, fit

    try:
        from tqdm import tqdm
    except ImportError:
        parser.error("the progress bar needs tqdm: pip install 'cnnscratch[cli]'")

    defaults = DEFAULTS[args.model]
    epochs: int = args.epochs or defaults["epochs"]
    batch_size: int = args.batch_size or defaults["batch_size"]
    lr: float = args.lr or defaults["lr"]
    output = args.output or Path(f"{args.model}.npz")
    _check_writable(parser, output)

    digits = load_digits(seed=args.seed)
    rng = np.random.default_rng(args.seed)
    model = build_model(args.model, rng)
    X_train, X_test = digits.X_train, digits.X_test
    if args.model == "cnn":
        X_train, X_test = X_train.reshape(-1, 1, 8, 8), X_test.reshape(-1, 1, 8, 8)
    steps = epochs * math.ceil(len(X_train) / batch_size)
    try:
        with tqdm(
            total=steps, desc=f"{args.model}", unit="step", disable=args.no_progress
        ) as bar:

            def on_step(loss: float) -> None:
                bar.update()
                bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

            fit(
                model,
                build_optimizer(args.model, lr),
                X_train,
                digits.Y_train,
                epochs=epochs,
                batch_size=batch_size,
                rng=rng,
                on_step=on_step,
            )
    except DivergenceError as error:  # one line and a failure status, no file
        what = str(error).split(" (epoch")[0].split(";")[0]
        parser.exit(1, f"{parser.prog}: error: {what}; try a smaller --lr\n")
    test_accuracy = accuracy(model, X_test, digits.y_test)
    correct = round(test_accuracy * len(X_test))
    print(f"test accuracy: {test_accuracy:.4f} ({correct}/{len(X_test)})")
    try:
        save_parameters(model, output)
    except ValueError as error:  # the folder changed during training, a full disk
        cause = error.__cause__
        reason = cause.strerror if isinstance(cause, OSError) else str(error)
        parser.error(f"--output {output} could not be written ({reason})")
    print(f"parameters saved to {output}")
    return 0


# ---------------------------------------------------------------------------
# Exercises: ``exercise NAME`` and ``check NAME FILE.py``


def add_exercise_commands(
    commands: argparse._SubParsersAction[_Parser],
    parser: argparse.ArgumentParser,
) -> None:
    """Add the ``exercise`` and ``check`` subcommands to ``commands``."""
    from .exercises import EXERCISES, TIME_LIMIT

    names = ", ".join(EXERCISES)
    exercise = commands.add_parser(
        "exercise",
        help="write the starter file of an exercise",
        description=(
            "Write NAME.py into the current folder: the signature, a docstring "
            "with the shapes and no body. An existing file is never "
            f"overwritten. Exercises: {names}."
        ),
    )
    exercise.error = parser.error  # type: ignore[method-assign]
    exercise.add_argument("name", metavar="NAME", help="the exercise")
    check = commands.add_parser(
        "check",
        help="grade your implementation of an exercise",
        description=(
            "Import the function NAME from FILE.py in a child process and grade "
            "it on a battery of cases. Exit status 0 when every case passes, 1 "
            "when one fails, 2 when the check cannot run."
        ),
    )
    check.error = parser.error  # type: ignore[method-assign]
    check.add_argument("name", metavar="NAME", help=f"the exercise: {names}")
    check.add_argument("file", metavar="FILE.py", type=Path, help="your file")
    check.add_argument(
        "--time-limit",
        type=positive_float,
        default=TIME_LIMIT,
        help=f"seconds allowed per case (default: {TIME_LIMIT:g})",
    )


def exercise(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``exercise``: write the starter file; returns the exit status."""
    from .exercises import UsageError, write_starter

    try:
        path = write_starter(args.name)
    except UsageError as error:
        parser.error(str(error))
    print(f"wrote {path}; fill in the function, then run:")
    print(f"  python -m cnnscratch check {args.name} {path}")
    return 0


def check(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``check``: grade the reader's file, print the report; exit 0 or 1."""
    from .exercises import UsageError, check_file

    try:
        report = check_file(args.name, args.file, time_limit=args.time_limit)
    except UsageError as error:
        parser.error(str(error))
    print(report)
    return 0 if report.passed else 1


#: The handler of each exercise subcommand.
EXERCISE_COMMANDS: dict[
    str, Callable[[argparse.Namespace, argparse.ArgumentParser], int]
] = {"exercise": exercise, "check": check}


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``) and run the command."""
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command in EXERCISE_COMMANDS:
        return EXERCISE_COMMANDS[args.command](args, parser)
    return train(args, parser)


if __name__ == "__main__":
    sys.exit(main())
