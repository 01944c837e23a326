"""Saving and loading parameters: round trip, and files that must be rejected."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cnnscratch.checkpoint import load_parameters, read_parameters, save_parameters
from cnnscratch.network import mlp


def model(seed: int, sizes: tuple[int, ...] = (6, 5, 3)):
    return mlp(list(sizes), rng=np.random.default_rng(seed))


def snapshot(m) -> dict[str, np.ndarray]:
    return {name: value.copy() for name, value in m.parameters().items()}


def test_round_trip_restores_every_parameter_exactly(tmp_path: Path) -> None:
    saved = model(0)
    path = save_parameters(saved, tmp_path / "m.npz")
    restored = model(1)
    assert not np.array_equal(restored.parameters()["0.W"], saved.parameters()["0.W"])
    load_parameters(restored, path)
    for name, value in saved.parameters().items():
        assert np.array_equal(restored.parameters()[name], value)
    X = np.random.default_rng(2).normal(size=(4, 6))
    assert np.array_equal(restored.forward(X), saved.forward(X))


def test_loading_writes_into_the_models_own_arrays(tmp_path: Path) -> None:
    path = save_parameters(model(0), tmp_path / "m.npz")
    target = model(1)
    W = target.parameters()["0.W"]
    load_parameters(target, path)
    assert W is target.parameters()["0.W"]  # optimisers keep references to these


def test_another_architecture_is_rejected_and_the_model_untouched(
    tmp_path: Path,
) -> None:
    path = save_parameters(model(0, (6, 5, 3)), tmp_path / "m.npz")
    target = model(1, (6, 4, 3))
    before = snapshot(target)
    with pytest.raises(ValueError, match="saved for another architecture") as info:
        load_parameters(target, path)
    assert "0.W has shape (5, 6) in the file but (4, 6) in the model" in str(info.value)
    for name, value in target.parameters().items():
        assert np.array_equal(value, before[name])


def test_missing_and_unexpected_parameters_are_listed(tmp_path: Path) -> None:
    path = save_parameters(model(0, (6, 3)), tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"missing 2\.W, 2\.b"):
        load_parameters(model(0, (6, 3, 3)), path)
    path = save_parameters(model(0, (6, 3, 3)), tmp_path / "big.npz")
    with pytest.raises(ValueError, match=r"unexpected 2\.W, 2\.b"):
        load_parameters(model(0, (6, 3)), path)


def test_a_truncated_file_is_rejected_and_the_model_untouched(tmp_path: Path) -> None:
    path = save_parameters(model(0), tmp_path / "m.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    target = model(1)
    before = snapshot(target)
    with pytest.raises(ValueError, match="cannot be read as a parameter file"):
        load_parameters(target, path)
    for name, value in target.parameters().items():
        assert np.array_equal(value, before[name])


def test_a_corrupted_array_is_rejected(tmp_path: Path) -> None:
    path = save_parameters(model(0), tmp_path / "m.npz")
    # Rewrite one member with flipped bytes but the original CRC in the header.
    with zipfile.ZipFile(path) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    damaged = bytearray(members["2.W.npy"])
    damaged[-8:] = bytes(8 * [0xFF])  # the last float becomes NaN
    members["2.W.npy"] = bytes(damaged)
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(ValueError, match=r"'2\.W' is not a finite float array"):
        read_parameters(path)
    target = model(1)
    before = snapshot(target)
    with pytest.raises(ValueError, match=r"'2\.W' is not a finite float array"):
        load_parameters(target, path)
    for name, value in target.parameters().items():  # 0.W, 0.b are not copied in
        assert np.array_equal(value, before[name])


def test_flipped_bytes_fail_the_zip_checksum(tmp_path: Path) -> None:
    path = save_parameters(model(0), tmp_path / "m.npz")
    data = bytearray(path.read_bytes())
    start = data.index(b"2.W.npy") + 200  # inside that member's stored data
    data[start : start + 4] = b"\x00\x01\x02\x03"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="cannot be read as a parameter file"):
        read_parameters(path)


def test_a_foreign_npz_and_a_missing_file_are_rejected(tmp_path: Path) -> None:
    np.savez(tmp_path / "other.npz", weights=np.ones(3))
    with pytest.raises(ValueError, match="is not a cnnscratch parameter file"):
        read_parameters(tmp_path / "other.npz")
    with pytest.raises(ValueError, match="cannot be read"):
        read_parameters(tmp_path / "absent.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="cannot be read"):
        read_parameters(tmp_path / "text.npz")


def test_saving_leaves_no_temporary_file_behind(tmp_path: Path) -> None:
    save_parameters(model(0), tmp_path / "m.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_a_saved_file_has_the_permissions_of_a_new_file(
    tmp_path: Path, umask: int
) -> None:
    reference, saved = tmp_path / "plain", tmp_path / "m.npz"
    previous = os.umask(umask)
    try:
        reference.write_bytes(b"")  # a file made the ordinary way, for comparison
        save_parameters(model(0), saved)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(saved.stat().st_mode) == stat.S_IMODE(reference.stat().st_mode)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o666 & ~umask
