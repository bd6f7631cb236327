"""training.atomic: a file is replaced whole or not at all."""

from __future__ import annotations

import pytest

from training.atomic import atomic_path


def test_the_file_is_replaced_when_the_block_succeeds(tmp_path) -> None:
    target = tmp_path / "card.json"
    target.write_text("old")
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        tmp.write_text("new")
        assert target.read_text() == "old", "replaced only when the block ends"
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["card.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing_behind(tmp_path) -> None:
    target = tmp_path / "digits.onnx"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target, ".onnx") as tmp:
        assert tmp.suffix == ".onnx"
        tmp.write_text("half a fi")
        raise RuntimeError("export disagrees")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["digits.onnx"]
