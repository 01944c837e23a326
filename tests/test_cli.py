"""The command line: help, a short run, and one-line errors for bad options."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnscratch.checkpoint import load_parameters
from cnnscratch.cli import DEFAULTS, MAX_EPOCHS, build_model, main, make_parser


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m cnnscratch ...`` in a subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "cnnscratch", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "100"},
    )


def test_help_documents_every_option() -> None:
    result = run("train", "--help")
    assert result.returncode == 0
    for option in ("--model", "--epochs", "--batch-size", "--lr", "--seed"):
        assert option in result.stdout
    for option in ("--output", "--no-progress"):
        assert option in result.stdout
    assert "(default: cnn)" in result.stdout
    assert "default: None" not in result.stdout


def test_a_short_run_prints_accuracy_shows_progress_and_saves(tmp_path: Path) -> None:
    output = tmp_path / "mlp.npz"
    result = run("train", "--model", "mlp", "--epochs", "2", "--output", str(output))
    assert result.returncode == 0, result.stderr
    assert "loss=" in result.stderr  # the tqdm bar with the running loss
    lines = result.stdout.splitlines()
    assert lines[0].startswith("test accuracy: ")
    accuracy = float(lines[0].split()[2])
    assert 0.5 < accuracy <= 1.0  # two epochs already beat chance (0.1) by far
    assert lines[1] == f"parameters saved to {output}"
    model = build_model("mlp", np.random.default_rng(99))
    load_parameters(model, output)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lr", "-0.1"], "argument --lr: '-0.1' is not a finite number > 0"),
        (["--lr", "nan"], "argument --lr: 'nan' is not a finite number > 0"),
        (["--epochs", "0"], "argument --epochs: '0' is not an integer in [1, 10000]"),
        (["--batch-size", "2.5"], "argument --batch-size: '2.5' is not an integer"),
        (["--seed", "-1"], "argument --seed: '-1' is not an integer >= 0"),
        (["--model", "rnn"], "argument --model: invalid choice: 'rnn'"),
        (["--output", "/nonexistent-folder/m.npz"], "the folder /nonexistent-folder"),
        (["--output", "."], "--output . is a directory"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["train", "--no-progress", *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("python -m cnnscratch: error: ")
    assert message in err


def test_integer_options_parse_to_int_and_the_learning_rate_to_float() -> None:
    args = make_parser().parse_args(
        ["train", "--epochs", "3", "--batch-size", "8", "--seed", "0", "--lr", "1"]
    )
    assert {type(args.epochs), type(args.batch_size), type(args.seed)} == {int}
    assert type(args.lr) is float
    for defaults in DEFAULTS.values():
        assert type(defaults["epochs"]) is int
        assert type(defaults["batch_size"]) is int
        assert type(defaults["lr"]) is float


def test_a_bad_option_from_the_shell_has_no_traceback() -> None:
    result = run("train", "--epochs", "0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_a_short_cnn_run_reshapes_the_images_and_saves_a_cnn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "cnn.npz"
    args = ["train", "--model", "cnn", "--epochs", "1", "--no-progress"]
    assert main([*args, "--output", str(output)]) == 0
    lines = capsys.readouterr().out.splitlines()
    accuracy = float(lines[0].split()[2])
    assert 0.5 < accuracy <= 1.0  # one epoch of the CNN already beats chance (0.1)
    assert lines[1] == f"parameters saved to {output}"
    load_parameters(build_model("cnn", np.random.default_rng(99)), output)


def test_an_output_folder_that_cannot_be_written_gives_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # /proc refuses new files even to root, for whom os.access always says yes
    args = ["train", "--model", "mlp", "--epochs", "1", "--no-progress"]
    with pytest.raises(SystemExit) as info:
        main([*args, "--output", "/proc/cnnscratch-test.npz"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("python -m cnnscratch: error: --output /proc/")


# --- exercise and check ------------------------------------------------------

CORRECT_DENSE = (
    "def dense_backward(dZ, X, W):\n    return dZ @ W, dZ.T @ X, dZ.sum(axis=0)\n"
)
MEAN_DENSE = (
    "def dense_backward(dZ, X, W):\n    return dZ @ W, dZ.T @ X, dZ.mean(axis=0)\n"
)


def test_exercise_writes_the_starter_into_the_current_folder_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["exercise", "maxpool2d_backward"]) == 0
    out = capsys.readouterr().out
    assert "python -m cnnscratch check maxpool2d_backward maxpool2d_backward.py" in out
    written = (tmp_path / "maxpool2d_backward.py").read_text(encoding="utf-8")
    assert "def maxpool2d_backward(dY, X, kernel=2, stride=None):" in written
    (tmp_path / "maxpool2d_backward.py").write_text("mine", encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["exercise", "maxpool2d_backward"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        "python -m cnnscratch: error: maxpool2d_backward.py already exists; "
        "not overwriting it\n"
    )
    assert (tmp_path / "maxpool2d_backward.py").read_text(encoding="utf-8") == "mine"


def test_check_exits_0_when_every_case_passes_and_1_when_one_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text(CORRECT_DENSE, encoding="utf-8")
    bad.write_text(MEAN_DENSE, encoding="utf-8")
    assert main(["check", "dense_backward", str(good)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dense_backward: all ")
    assert out.endswith(" cases pass.\n")
    assert main(["check", "dense_backward", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "Likely bug in db: a mean over the batch where a sum belongs" in out


@pytest.mark.parametrize(
    ("name", "source", "message"),
    [
        ("dense_forward", CORRECT_DENSE, "no exercise named 'dense_forward'"),
        ("dense_backward", None, "mine.py: no such file"),
        ("dense_backward", "x = 1\n", "defines no function named dense_backward"),
        ("dense_backward", "def dense_backward(:\n", "line 1: syntax error"),
    ],
)
def test_check_usage_errors_are_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    source: str | None,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    if source is not None:
        Path("mine.py").write_text(source, encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["check", name, "mine.py"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("python -m cnnscratch: error: ")
    assert message in err


def test_check_from_the_shell_gives_the_exit_status_and_no_traceback(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(MEAN_DENSE, encoding="utf-8")
    result = run("check", "dense_backward", str(bad))
    assert result.returncode == 1
    assert "Smallest failing case: " in result.stdout
    bad.write_text("def dense_backward(dZ, X, W)\n", encoding="utf-8")
    result = run("check", "dense_backward", str(bad))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--model", "cnn", "--lr", "1e308"],
        ["--model", "mlp", "--lr", "1e200"],
        ["--model", "mlp", "--lr", "1e30"],  # finite, but the loss explodes
    ],
)
def test_a_diverging_run_stops_with_one_line_and_exit_1(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "m.npz"
    with pytest.raises(SystemExit) as info:
        main(
            ["train", "--no-progress", "--epochs", "2", *args, "--output", str(output)]
        )
    assert info.value.code == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # no accuracy of a diverged model
    assert captured.err.count("\n") == 1, captured.err
    assert re.fullmatch(
        r"python -m cnnscratch: error: loss (became non-finite|grew to \S+) at "
        r"step \d+; try a smaller --lr\n",
        captured.err,
    ), captured.err
    assert not output.exists()


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("newdir/", "'newdir/' names a folder; expected a file name"),
        ("", "'' is not a file name"),
        ("x" * 300, "is not writable (File name too long)"),
    ],
)
def test_an_output_that_is_no_file_name_gives_one_line_and_exit_2(
    output: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["train", "--no-progress", "--output", output])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert message in err
    assert not Path("newdir").exists()


def test_epochs_are_bounded(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--epochs", str(10**30)])
    assert f"is not an integer in [1, {MAX_EPOCHS}]" in capsys.readouterr().err
