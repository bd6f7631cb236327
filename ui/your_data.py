"""The "Your data" tab: what has been saved, per digit, the newest samples, delete, and download everything.

Who sees what: run locally, there is one person and they see every sample. With Streamlit's login
configured, each person sees, exports and deletes only their own samples. On a shared store
(``DIGITS_DB_URL``) without login, only the counts are shown, and nobody can delete or export.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from store import Counts, SampleStore, StoredSample, StoreUnavailable
from ui import enlarge, plain
from ui.feedback import current_owner, get_store, login_configured, store_place

RECENT = 24
GRID_COLUMNS = 6
# Reads the same store as the app: $DIGITS_DB_URL, else data/samples.sqlite.
FINETUNE_COMMAND = "python -m training.finetune --out model/"


@dataclass(frozen=True)
class Access:
    """What this visitor may do with the store. ``owner``: whose samples they see (None: everyone's)."""

    owner: str | None
    see_samples: bool
    manage: bool  # delete and export
    note: str | None  # one line saying why something is off


def access(store: SampleStore, logged_in_as: str | None, has_login: bool) -> Access:
    """The rules of "who sees what" (see the module docstring)."""
    if logged_in_as:
        return Access(logged_in_as, True, True, None)
    if has_login:
        return Access(None, False, False, "Log in to see, download or delete the samples you saved.")
    if store.shared:
        return Access(None, False, False, "This store is shared and nobody is logged in: showing counts only; "
                                          "deleting and downloading are off.")
    return Access(None, True, True, None)


@st.cache_data(ttl=30, show_spinner=False, max_entries=32)
def _counts(_store: SampleStore, url: str, owner: str | None, revision: int) -> Counts:
    # Cached so full-page reruns do not query the database each time; a save or delete in this
    # session bumps ``revision``, and other people's saves show up within ``ttl``.
    return _store.counts(owner)


def _bump() -> None:
    st.session_state["samples_revision"] = st.session_state.get("samples_revision", 0) + 1


def _caption(sample: StoredSample) -> str:
    if sample.predicted is None:
        return f"{sample.label}"
    return f"{sample.label} (read as {sample.predicted})" if sample.corrected else f"{sample.label} ✓"


def counts_table(counts: Counts) -> pd.DataFrame:
    """Per digit: samples confirmed as read and samples corrected."""
    table = pd.DataFrame(
        {
            "digit": [str(d) for d in range(10)],
            "confirmed": [counts.per_digit[d] - counts.corrections_per_digit[d] for d in range(10)],
            "corrected": [counts.corrections_per_digit[d] for d in range(10)],
        }
    )
    return table.set_index("digit")


def _delete(store: SampleStore, sample_id: int, owner: str | None) -> None:
    try:
        if store.delete(sample_id, owner):
            st.session_state["deleted-message"] = f"Deleted sample {sample_id}."
        _bump()
    except StoreUnavailable as exc:
        st.session_state["deleted-message"] = f"Cannot delete: {exc}"


def your_data_tab() -> None:
    """The whole tab."""
    store, problem = get_store()
    if store is None:
        st.warning(f"Saving is unavailable: {problem}. Reading digits still works.", icon=":material/cloud_off:")
        return
    rules = access(store, current_owner(), login_configured())
    if rules.note:
        st.info(rules.note, icon=":material/lock:")
    if login_configured() and rules.owner is None:
        st.button("Log in", on_click=st.login, key="login")
        return
    try:
        counts = _counts(store, store.location, rules.owner, st.session_state.get("samples_revision", 0))
    except StoreUnavailable as exc:
        st.warning(f"Saving is unavailable: {exc}. Reading digits still works.", icon=":material/cloud_off:")
        return
    st.caption(f"Samples are kept in {plain(store_place())}.")
    total, corrected, confirmed = st.columns(3)
    total.metric("Samples", f"{counts.total:,}", help="Answers you confirmed or corrected and saved")
    corrected.metric("Corrections", f"{counts.corrections:,}", help="Answers the model got wrong, with the right digit")
    confirmed.metric("Confirmed", f"{counts.total - counts.corrections:,}")
    if counts.total == 0:
        st.info("Nothing saved yet. Under each answer in Draw and Upload, click Right, or the right digit when it is wrong.",
                icon=":material/inbox:")
        return
    st.bar_chart(counts_table(counts), color=["#94a3b8", "#f59e0b"], height=220, x_label="digit", y_label="samples")

    if st.session_state.get("deleted-message"):
        st.toast(st.session_state.pop("deleted-message"))
    if rules.manage:
        st.download_button(
            "Download all as a zip",
            data=lambda: store.export_zip(rules.owner),
            file_name=f"digit-samples-{dt.date.today().isoformat()}.zip",
            mime="application/zip",
            icon=":material/download:",
            key="export",
            on_click="ignore",
            help="digits/<digit>/*.png (the 28×28 network inputs, the layout of keras.utils.image_dataset_from_directory), "
                 "inputs/*.png (what was drawn or uploaded) and samples.csv",
        )
    if rules.see_samples:
        st.subheader("Newest samples", anchor=False)
        try:
            recent = store.recent(RECENT, rules.owner)
        except StoreUnavailable as exc:
            st.warning(str(exc))
            return
        for row_start in range(0, len(recent), GRID_COLUMNS):
            for column, sample in zip(st.columns(GRID_COLUMNS), recent[row_start : row_start + GRID_COLUMNS]):
                with column:
                    st.image(enlarge(sample.input28, 84), caption=_caption(sample), output_format="PNG")
                    if rules.manage:
                        st.button("Delete", key=f"delete-{sample.id}", icon=":material/delete:", type="tertiary",
                                  on_click=_delete, args=(store, sample.id, rules.owner))
    st.caption("Fine-tune the model on these samples, then reload the page:")
    st.code(FINETUNE_COMMAND, language="bash")
