"""The Model tab's "Fine-tuned from …" section: where a fine-tuned model came from and what it changed."""

from __future__ import annotations

import streamlit as st

from ui import plain


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def lineage_section(card: dict) -> None:
    """Nothing for a model trained from scratch; for a fine-tuned one, its parent, samples and before/after."""
    lineage = card.get("lineage")
    if not isinstance(lineage, dict):
        return
    st.subheader("Fine-tuned on saved samples", anchor=False)
    before, after = lineage.get("before", {}), lineage.get("after", {})
    st.markdown(
        f"Fine-tuned from model `{str(lineage.get('parent_sha256', '?'))[:12]}` on "
        f"{lineage.get('samples_used', 0):,} saved samples from {plain(str(lineage.get('samples_source', '?')))}, "
        f"mixed with MNIST replay; {lineage.get('samples_held_out', 0):,} more were held out to score it."
    )
    held, mnist = st.columns(2)
    held.metric(
        "Held-out samples",
        _pct(after.get("held_out_accuracy")),
        delta=None if after.get("held_out_accuracy") is None or before.get("held_out_accuracy") is None
        else f"{(after['held_out_accuracy'] - before['held_out_accuracy']) * 100:+.1f} points",
        help=f"Before fine-tuning: {_pct(before.get('held_out_accuracy'))}",
    )
    mnist.metric(
        "MNIST test",
        _pct(after.get("mnist_test_accuracy")),
        delta=None if after.get("mnist_test_accuracy") is None or before.get("mnist_test_accuracy") is None
        else f"{(after['mnist_test_accuracy'] - before['mnist_test_accuracy']) * 100:+.2f} points",
        help=f"Before fine-tuning: {_pct(before.get('mnist_test_accuracy'))}",
    )
    ancestors = lineage.get("ancestors") or []
    if len(ancestors) > 1:
        st.caption("Lineage, oldest first: " + " → ".join(f"`{str(a)[:12]}`" for a in ancestors))
