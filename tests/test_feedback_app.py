"""Right / Wrong controls and the "Your data" tab, headless with ``AppTest``, saving to a real SQLite store.

Each test gets its own database file. ``DIGITS_DB_URL`` makes a store *shared* (no delete or
export without login), so the single-user case points the default path (data/samples.sqlite) at
a temp file instead.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import store.samples
from store import SampleStore, new_sample
from tests.conftest import require
from ui import plain

ROOT = Path(__file__).resolve().parent.parent
SHA = "cd" * 32


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A single-user store in a temp file (the app's default location, moved)."""
    require((ROOT / "model" / "digits.onnx").is_file(), "no trained model at model/digits.onnx")
    path = tmp_path / "samples.sqlite"
    monkeypatch.delenv("DIGITS_DB_URL", raising=False)
    monkeypatch.delenv("DIGITS_SAVE", raising=False)
    monkeypatch.delenv("DIGITS_DB_SHARED", raising=False)
    monkeypatch.setattr(store.samples, "DEFAULT_DB_PATH", path)
    return path


def rows(path: Path):
    s = SampleStore(f"sqlite:///{path}")
    try:
        return sorted(s.recent(1000), key=lambda r: r.id)
    finally:
        s.close()


def _controls(digits: str) -> None:
    import numpy as np

    from model import load_classifier
    from tests.digit_images import draw_digit
    from ui.feedback import feedback_controls

    image = np.hstack([draw_digit(d) for d in digits])
    classifier = load_classifier()
    feedback_controls(classifier.read(image), image, source="upload", key="card", model_path=classifier.path)


def controls(digits: str) -> AppTest:
    at = AppTest.from_function(_controls, args=(digits,), default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def _your_data() -> None:
    from ui.your_data import your_data_tab

    your_data_tab()


def your_data() -> AppTest:
    at = AppTest.from_function(_your_data, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


# --- One digit ------------------------------------------------------------------------------------


def test_one_digit_gets_right_and_ten_digit_buttons_and_saves_nothing_by_itself(db: Path) -> None:
    at = controls("7")
    keys = {b.key for b in at.button}
    assert keys == {"card-right", *(f"card-digit-{d}" for d in range(10))}
    assert not at.text_input
    assert any("Nothing is saved until you click" in c.value and plain(str(db)) in c.value for c in at.caption)
    assert not db.exists() or rows(db) == []


def test_correcting_a_digit_saves_it_with_the_right_label(db: Path) -> None:
    at = controls("7")
    at.button(key="card-digit-1").click().run()
    assert not at.exception, at.exception
    [sample] = rows(db)
    assert (sample.label, sample.predicted, sample.corrected, sample.source) == (1, 7, True, "upload")
    assert sample.input28.shape == (28, 28) and sample.input28.max() > 0
    assert [s.value for s in at.success] == ["Saved as 1, corrected."]


def test_confirming_a_digit_saves_it_once(db: Path) -> None:
    at = controls("7")
    at.button(key="card-right").click().run()
    at.button(key="card-right").click().run()
    assert not at.exception, at.exception
    [sample] = rows(db)
    assert (sample.label, sample.predicted, sample.corrected) == (7, 7, False)
    assert at.success[0].value.startswith("Saved as 7, confirmed (already saved before")


def test_the_owner_is_recorded_when_logged_in(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ui.feedback

    # A real login needs an identity provider; what is tested is that its answer reaches the row.
    monkeypatch.setattr(ui.feedback, "current_owner", lambda: "ann@example.com")
    at = controls("7")
    at.button(key="card-right").click().run()
    assert [s.owner for s in rows(db)] == ["ann@example.com"]


def test_saving_can_be_switched_off(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITS_SAVE", "off")
    at = controls("7")
    assert not at.button and not at.caption


# --- A number -------------------------------------------------------------------------------------


def test_correcting_a_number_saves_one_sample_per_digit(db: Path) -> None:
    at = controls("170")
    assert not [b for b in at.button if b.key.startswith("card-digit-")]
    assert at.text_input(key="card-answer").placeholder == "170"
    at.text_input(key="card-answer").input("1 71").run()
    at.button(key="card-correct").click().run()
    assert not at.exception, at.exception
    saved = rows(db)
    assert [(s.label, s.predicted, s.corrected) for s in saved] == [(1, 1, False), (7, 7, False), (1, 0, True)]
    assert len({s.input28.tobytes() for s in saved}) == 3  # each digit's own network input
    assert at.success[0].value == "Saved as 171, corrected."


def test_a_number_correction_that_cannot_be_aligned_saves_nothing(db: Path) -> None:
    at = controls("170")
    at.text_input(key="card-answer").input("17").run()
    at.button(key="card-correct").click().run()
    assert not at.exception, at.exception
    assert "cannot be matched one to one: nothing was saved" in at.error[0].value
    at.text_input(key="card-answer").input("1x0").run()
    at.button(key="card-correct").click().run()
    assert at.error[0].value.startswith("Type only the digits 0-9")
    assert not db.exists() or rows(db) == []


def test_confirming_a_number(db: Path) -> None:
    at = controls("170")
    at.button(key="card-right").click().run()
    assert [s.label for s in rows(db)] == [1, 7, 0]


# --- A database that cannot be used ---------------------------------------------------------------


def test_a_corrupt_database_says_saving_is_unavailable_and_nothing_breaks(db: Path) -> None:
    db.write_bytes(b"not a database at all" * 100)
    at = controls("7")
    assert any(b.key == "card-right" for b in at.button)  # the answer and its controls are still there
    at.button(key="card-right").click().run()
    assert not at.exception, at.exception
    assert at.error[0].value.startswith("Saving is unavailable:") and "file is not a database" in at.error[0].value
    yours = your_data()
    assert yours.warning[0].value.startswith("Saving is unavailable:")


# --- Your data ------------------------------------------------------------------------------------


def fill(path: Path, labels_predicted: list[tuple[int, int]], owner: str | None = None) -> list[int]:
    s = SampleStore(f"sqlite:///{path}")
    rng = np.random.default_rng(len(labels_predicted))
    ids = [
        s.add(new_sample(rng.integers(0, 256, (40, 30), np.uint8), rng.integers(0, 256, (28, 28), np.uint8), label,
                         predicted=predicted, confidence=0.5, model_sha256=SHA, source="draw", owner=owner)).id
        for label, predicted in labels_predicted
    ]
    s.close()
    return ids


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_your_data_counts_shows_and_deletes(db: Path) -> None:
    ids = fill(db, [(3, 3), (3, 8), (5, 6)])
    at = your_data()
    assert metrics(at) == {"Samples": "3", "Corrections": "2", "Confirmed": "1"}
    assert {b.key for b in at.button} == {f"delete-{i}" for i in ids}
    assert at.download_button(key="export").label == "Download all as a zip"
    at.button(key=f"delete-{ids[1]}").click().run()
    assert not at.exception, at.exception
    assert metrics(at) == {"Samples": "2", "Corrections": "1", "Confirmed": "1"}
    assert [s.id for s in rows(db)] == [ids[0], ids[2]]
    assert not any(b.key == f"delete-{ids[1]}" for b in at.button)


def test_your_data_when_empty(db: Path) -> None:
    at = your_data()
    assert metrics(at)["Samples"] == "0"
    assert "Nothing saved yet" in at.info[0].value


def test_a_shared_store_without_login_shows_counts_only(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(db, [(1, 1), (2, 7)])
    monkeypatch.setenv("DIGITS_DB_URL", f"sqlite:///{db}")
    at = your_data()
    assert metrics(at)["Samples"] == "2"
    assert not at.button and not at.download_button  # no delete, no export
    assert "deleting and downloading are off" in at.info[0].value
    monkeypatch.setenv("DIGITS_DB_SHARED", "0")  # one person's own database, set by URL
    assert your_data().download_button(key="export")


def test_logged_in_people_see_only_their_own(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ui.your_data

    ann = fill(db, [(1, 1), (2, 7)], owner="ann@example.com")
    fill(db, [(4, 4)], owner="bob@example.com")
    monkeypatch.setenv("DIGITS_DB_URL", f"sqlite:///{db}")  # shared, but with login
    monkeypatch.setattr(ui.your_data, "login_configured", lambda: True)
    monkeypatch.setattr(ui.your_data, "current_owner", lambda: "ann@example.com")
    at = your_data()
    assert metrics(at) == {"Samples": "2", "Corrections": "1", "Confirmed": "1"}
    assert {b.key for b in at.button} == {f"delete-{i}" for i in ann}
    assert at.download_button(key="export")


def test_login_configured_but_not_logged_in_offers_login(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ui.your_data

    fill(db, [(1, 1)], owner="ann@example.com")
    monkeypatch.setattr(ui.your_data, "login_configured", lambda: True)
    monkeypatch.setattr(ui.your_data, "current_owner", lambda: None)
    at = your_data()
    assert [b.key for b in at.button] == ["login"]
    assert not at.metric


def test_the_export_is_what_the_download_button_serves(db: Path) -> None:
    """The button serves ``store.export_zip`` lazily (built on click); here is what that zip holds."""
    ids = fill(db, [(3, 3), (9, 4)])
    data = SampleStore(f"sqlite:///{db}").export_zip()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert f"digits/3/{ids[0]}.png" in names and f"digits/9/{ids[1]}.png" in names and "samples.csv" in names


# --- The Model tab's lineage ------------------------------------------------------------------------


def _lineage(card: dict) -> None:
    from ui.lineage import lineage_section

    lineage_section(card)


def test_lineage_of_a_finetuned_model() -> None:
    card = {"lineage": {"parent_sha256": "f" * 64, "ancestors": ["e" * 64, "f" * 64], "samples_used": 640,
                        "samples_held_out": 160, "samples_source": "data/samples.sqlite",
                        "before": {"held_out_accuracy": 0.825, "mnist_test_accuracy": 0.9968},
                        "after": {"held_out_accuracy": 0.98, "mnist_test_accuracy": 0.9962}}}
    at = AppTest.from_function(_lineage, args=(card,), default_timeout=30).run()
    assert not at.exception, at.exception
    assert "from model `ffffffffffff` on 640 saved samples" in at.markdown[0].value
    shown = {m.label: (m.value, m.delta) for m in at.metric}
    assert shown == {"Held-out samples": ("98.00%", "+15.5 points"), "MNIST test": ("99.62%", "-0.06 points")}
    assert "`eeeeeeeeeeee` → `ffffffffffff`" in at.caption[0].value


def test_no_lineage_for_a_model_trained_from_scratch() -> None:
    at = AppTest.from_function(_lineage, args=({"name": "mnist-robust"},), default_timeout=30).run()
    assert not at.exception and not at.subheader and not at.metric


def test_the_app_shows_the_lineage_of_the_model_it_serves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``training.finetune --out DIR`` leaves in DIR is what the app serves and describes."""
    import shutil

    require((ROOT / "model" / "digits.onnx").is_file(), "no trained model at model/digits.onnx")
    shutil.copy(ROOT / "model" / "digits.onnx", tmp_path / "digits.onnx")
    card = {"name": "mnist-robust-finetuned", "architecture": "robust", "test": {"accuracy": 0.9961},
            "lineage": {"parent_sha256": "a" * 64, "ancestors": ["a" * 64], "samples_used": 640, "samples_held_out": 160,
                        "samples_source": "data/samples.sqlite",
                        "before": {"held_out_accuracy": 0.9, "mnist_test_accuracy": 0.9968},
                        "after": {"held_out_accuracy": 0.97, "mnist_test_accuracy": 0.9961}}}
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    monkeypatch.setenv("DIGITS_MODEL", str(tmp_path / "digits.onnx"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    assert not at.error  # the model loaded
    assert "Fine-tuned on saved samples" in [h.value for h in at.subheader]
    assert {m.label: m.value for m in at.metric}["Held-out samples"] == "97.00%"
