"""Under each answer: "Right" or "Wrong → the right answer is …", saved to the sample store on an explicit click.

The Draw tab reruns on every stroke, so rendering these controls touches no database: the store is
opened (once per process) only when someone clicks to save, and the "Your data" tab reads it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import streamlit as st

from model import Reading
from store import BadSample, NewSample, SampleStore, StoreUnavailable, default_url, new_sample
from store.samples import ROOT, location_of
from ui import plain

# A digit's stored input is its box in the picture plus this share of the box on each side.
CROP_MARGIN = 0.15
MAX_NUMBER_DIGITS = 40


def save_enabled() -> bool:
    """False when ``DIGITS_SAVE=off`` (a public deployment): no saving controls and no "Your data" tab."""
    return os.environ.get("DIGITS_SAVE", "on").strip().lower() not in {"off", "0", "false", "no"}


def shared_store() -> bool:
    """Several people use the store: it is set with ``DIGITS_DB_URL`` (``DIGITS_DB_SHARED=0`` or ``1`` overrides)."""
    setting = os.environ.get("DIGITS_DB_SHARED", "").strip().lower()
    if setting in {"0", "1", "false", "true", "no", "yes", "off", "on"}:
        return setting in {"1", "true", "yes", "on"}
    return bool(os.environ.get("DIGITS_DB_URL"))


@st.cache_resource(show_spinner=False)
def _open_store(url: str, shared: bool) -> SampleStore:
    # StoreUnavailable is raised, not returned: Streamlit does not cache exceptions, so the next
    # attempt tries again (the lock may be gone, the server may be back).
    return SampleStore(url, shared=shared)


def get_store() -> tuple[SampleStore | None, str | None]:
    """The process's sample store, or None and why it cannot be used."""
    try:
        return _open_store(default_url(), shared_store()), None
    except StoreUnavailable as exc:
        return None, str(exc)


def store_place() -> str:
    """Where samples go, in words, without connecting: 'data/samples.sqlite on this computer' or the URL."""
    where = location_of(default_url())
    try:
        return f"{Path(where).resolve().relative_to(ROOT)} on this computer"
    except ValueError:
        return where


def login_configured() -> bool:
    """Streamlit's built-in login is set up (an ``[auth]`` section in secrets.toml)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file, or an unreadable one: no login
        return False


def current_owner() -> str | None:
    """The logged-in person's e-mail (or subject id), or None without login."""
    if not login_configured() or not st.user.get("is_logged_in"):
        return None
    return st.user.get("email") or st.user.get("sub")


@st.cache_data(show_spinner=False, max_entries=8)
def model_sha256(path: str, modified: float) -> str:
    """sha256 of the served model file; ``modified`` renews it when the file is replaced."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Unaligned(ValueError):
    """A corrected number whose digits cannot be matched one to one with the digits that were read."""


def parse_answer(text: str, digits_read: int) -> str:
    """The digits of a typed answer ('2 026' -> '2026'); raises ValueError with a one-line reason."""
    answer = "".join(text.split())
    if not answer:
        raise ValueError("Type the right number first.")
    if not answer.isascii() or not answer.isdigit() or len(answer) > MAX_NUMBER_DIGITS:
        raise ValueError(f"Type only the digits 0-9 (at most {MAX_NUMBER_DIGITS}).")
    if len(answer) != digits_read:
        raise Unaligned(
            f"{len(answer)} digits typed but {digits_read} were found in the picture, so they cannot be matched "
            "one to one: nothing was saved. Rewrite the number with clearer gaps between the digits and try again."
        )
    return answer


def crop_box(image: np.ndarray, box: tuple[int, int, int, int] | None) -> np.ndarray:
    """The part of ``image`` holding one digit (its box plus a margin); the whole image without a box."""
    if box is None:
        return image
    x, y, w, h = box
    m = round(CROP_MARGIN * max(w, h))
    height, width = image.shape[:2]
    crop = image[max(0, y - m) : min(height, y + h + m), max(0, x - m) : min(width, x + w + m)]
    return crop if crop.size else image


def samples_for(reading: Reading, image: np.ndarray, answer: str, *, source: str, model_sha256: str,
                owner: str | None) -> list[NewSample]:
    """One sample per digit read, labelled with the matching digit of ``answer``."""
    if len(answer) != len(reading.digits):
        raise Unaligned(f"{len(answer)} digits for {len(reading.digits)} read")
    return [
        new_sample(crop_box(image, d.box), d.processed, int(label), predicted=d.digit, confidence=d.confidence,
                   model_sha256=model_sha256, source=source, owner=owner)
        for d, label in zip(reading.digits, answer)
    ]


def _fingerprint(reading: Reading) -> str:
    digest = hashlib.sha256(reading.text.encode())
    for d in reading.digits:
        digest.update(d.processed.tobytes())
    return digest.hexdigest()[:16]


def _save(reading: Reading, image: np.ndarray, answer: str, source: str, key: str, model_path: Path) -> None:
    """Store the answer; on success remember a message and rerun the whole page (so "Your data" counts it)."""
    store, problem = get_store()
    if store is None:
        st.error(f"Saving is unavailable: {problem}. Reading digits still works.", icon=":material/cloud_off:")
        return
    try:
        sha = model_sha256(str(model_path), model_path.stat().st_mtime)
        samples = samples_for(reading, image, answer, source=source, model_sha256=sha, owner=current_owner())
        saved = [store.add(s) for s in samples]
    except (BadSample, Unaligned) as exc:
        st.error(f"Not saved: {exc}", icon=":material/block:")
        return
    except (StoreUnavailable, OSError) as exc:
        st.error(f"Saving is unavailable: {exc}. Reading digits still works.", icon=":material/cloud_off:")
        return
    what = "confirmed" if answer == reading.text else "corrected"
    again = "" if all(s.new for s in saved) else " (already saved before: its answer was updated)"
    st.session_state[f"{key}-saved"] = (_fingerprint(reading), f"Saved as {answer}, {what}{again}.")
    st.session_state["samples_revision"] = st.session_state.get("samples_revision", 0) + 1
    st.rerun()


def feedback_controls(reading: Reading, image: np.ndarray, *, source: str, key: str, model_path: Path) -> None:
    """Right / Wrong controls for one answer; ``key`` must be unique on the page and stable across reruns."""
    if not save_enabled() or not reading.ok:
        return
    one = len(reading.digits) == 1
    with st.container(border=True, key=f"{key}-feedback"):
        saved = st.session_state.get(f"{key}-saved")
        if saved and saved[0] == _fingerprint(reading):
            st.success(saved[1], icon=":material/check_circle:")
        with st.container(horizontal=True, vertical_alignment="center"):
            st.markdown(f"Is **{reading.text}** right?")
            if st.button("Right", icon=":material/thumb_up:", key=f"{key}-right"):
                _save(reading, image, reading.text, source, key, model_path)
        if one:
            st.caption("Wrong? The right digit is:")
            with st.container(horizontal=True, gap="small", key=f"{key}-digits"):
                for d in range(10):
                    if st.button(str(d), key=f"{key}-digit-{d}"):
                        _save(reading, image, str(d), source, key, model_path)
        else:
            with st.container(horizontal=True, vertical_alignment="bottom"):
                typed = st.text_input("Wrong? The right number is:", key=f"{key}-answer", max_chars=MAX_NUMBER_DIGITS,
                                      placeholder=reading.text)
                if st.button("Save correction", key=f"{key}-correct"):
                    try:
                        answer = parse_answer(typed, len(reading.digits))
                    except ValueError as exc:
                        st.error(str(exc), icon=":material/block:")
                    else:
                        _save(reading, image, answer, source, key, model_path)
        per_digit = "" if one else " for each of its digits"
        st.caption(
            f"Saving keeps the picture{per_digit}, the 28×28 image the network read and the right answer in "
            f"{plain(store_place())}, to fine-tune the model on your handwriting (`python -m training.finetune`). "
            "Nothing is saved until you click."
            + ("" if one else " A correction must have as many digits as were read; otherwise it cannot be matched "
               "to the digits and nothing is saved.")
        )
