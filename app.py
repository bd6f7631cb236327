"""Handwritten digit recognizer: draw a digit or a number, or upload photos and scans, and get the answer at once.

    streamlit run app.py

Set ``DIGITS_MODEL`` to use another model file (``.onnx`` or ``.keras``) than the committed ``model/digits.onnx``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

import ui
from model import DEFAULT_MODEL_PATH, LOW_CONFIDENCE, DigitClassifier, ModelLoadError, Prediction, Reading, load_classifier
from model.classifier import TRAIN_COMMAND, files_modified
from preprocessing import ImageDecodeError, decode_image
from ui.feedback import feedback_controls, save_enabled
from ui.lineage import lineage_section
from ui.your_data import your_data_tab

log = logging.getLogger(__name__)
IMAGE_TYPES = ["png", "jpg", "jpeg", "bmp", "webp", "gif", "tif", "tiff"]
# Wide enough to write up to eight digits in a row; a lone digit still fills the height.
CANVAS_WIDTH, CANVAS_HEIGHT = 680, 220


def model_path() -> Path:
    """The model file: ``$DIGITS_MODEL`` if set, else the committed one."""
    return Path(os.environ.get("DIGITS_MODEL") or DEFAULT_MODEL_PATH)


@st.cache_resource(show_spinner="Loading the model…", max_entries=1)
def get_classifier(path: Path, modified: tuple[float, ...]) -> DigitClassifier:
    """Load the networks once per process; ``modified`` (their files' times) makes a retrained one replace the old."""
    classifier = load_classifier(path)
    # The first forward pass sets up the network's buffers: do it now, not on the user's first stroke.
    classifier.probabilities(np.zeros((1, 28, 28), dtype=np.uint8))
    return classifier


def classifier_or_error() -> tuple[DigitClassifier | None, str | None]:
    """The loaded classifier, or None and the reason it cannot be loaded."""
    path = model_path()
    try:
        return get_classifier(path, files_modified(path)), None
    except ModelLoadError as exc:
        return None, str(exc)


def show_prediction(prediction: Prediction, steps_key: str | None = None) -> None:
    """One digit: what the network saw, the digit, all ten probabilities and the processing steps.

    With ``steps_key`` the steps are only drawn while their expander is open (opening it reruns):
    worth it on the canvas, where every stroke reruns and the steps are rarely looked at.
    """
    if not prediction.ok:
        st.info(prediction.reason or "No digit found.", icon=":material/search_off:")
    else:
        with st.container(horizontal=True, vertical_alignment="center", gap="large"):
            st.image(ui.enlarge(prediction.processed), caption="Network input", output_format="PNG")
            with st.container(width="content"):
                # A shaky answer is labelled a guess, so it is never presented as certain.
                st.metric("Best guess" if prediction.low_confidence else "Prediction", prediction.digit)
                st.caption(ui.confidence_text(prediction.confidence))
        if prediction.low_confidence:
            st.warning(ui.unsure_text(prediction.digit, prediction.confidence), icon=":material/help:")
        st.vega_lite_chart(*ui.probability_chart(prediction.probabilities, prediction.digit), width="stretch")
    show_steps(prediction.steps, steps_key)


def show_steps(steps: dict[str, np.ndarray], key: str | None) -> None:
    """The processing steps in an expander (drawn only while open when ``key`` is given)."""
    lazy = {"key": key, "on_change": "rerun"} if key else {}
    with st.expander("How the image was processed", **lazy) as panel:
        if panel.open is not False:  # None when not lazy
            st.image(
                [ui.enlarge(step, ui.STEP_SIZE) for step in steps.values()],
                caption=list(steps),
                width=ui.STEP_SIZE,
                output_format="PNG",
            )


def show_reading(reading: Reading, steps_key: str | None = None) -> None:
    """A whole number: the number large, then each digit's network input with its digit and confidence.

    A lone digit is shown as before (network input, answer, the ten probabilities).
    """
    if len(reading.digits) <= 1:
        lone = reading.digits[0] if reading.digits else Prediction(None, None, None, None, reading.reason, reading.steps)
        show_prediction(lone, steps_key)
        return
    st.metric("Best guess" if reading.low_confidence else "Prediction", reading.text)
    st.caption(f"{len(reading.digits)} digits, {ui.confidence_text(reading.confidence)} for the whole number")
    with st.container(horizontal=True, gap="small"):
        for digit in reading.digits:
            st.image(ui.enlarge(digit.processed, ui.DIGIT_ROW_SIZE), caption=ui.digit_caption(digit), output_format="PNG")
    if reading.low_confidence:
        st.warning(ui.unsure_number_text(reading), icon=":material/help:")
    lazy = {"key": f"{steps_key}-probabilities", "on_change": "rerun"} if steps_key else {}
    with st.expander("Probabilities of each digit", **lazy) as panel:
        if panel.open is not False:
            for position, digit in enumerate(reading.digits, 1):
                st.caption(f"Digit {position}: {digit.digit}")
                st.vega_lite_chart(*ui.probability_chart(digit.probabilities, digit.digit), width="stretch", height=120)
    show_steps(reading.steps, steps_key)


def clear_canvas() -> None:
    """A canvas is emptied by giving it a new key: the old widget and its drawing are dropped."""
    st.session_state.canvas_version += 1


@st.fragment
def draw_tab(classifier: DigitClassifier | None) -> None:
    """A wide canvas for a digit or a whole number, the answer under it; a fragment, so a stroke reruns only this tab."""
    st.session_state.setdefault("canvas_version", 0)
    canvas = st_canvas(
        stroke_width=st.session_state.get("pen_width", 16),
        stroke_color="#FFFFFF",
        background_color="#000000",  # white on black like MNIST, and the ink is in the RGB channels
        width=CANVAS_WIDTH,
        height=CANVAS_HEIGHT,
        drawing_mode="freedraw",
        update_streamlit=True,
        return_image_data=True,
        key=f"canvas-{st.session_state.canvas_version}",
    )
    clear, width = st.columns([1, 2], vertical_alignment="bottom")
    clear.button("Clear", icon=":material/delete:", on_click=clear_canvas, key="clear", width="stretch")
    width.slider("Pen width", 6, 36, 16, key="pen_width")
    strokes = (canvas.json_data or {}).get("objects") or []
    image = canvas.image_data  # decodes the canvas PNG on every access: once is enough
    if classifier is None:
        st.info("Predictions appear here once a model is available (see above).")
    elif image is None or not strokes:
        st.info("Draw a digit or a whole number in the box — the answer appears as soon as you lift the pen.",
                icon=":material/draw:")
    else:
        reading = classifier.read(image)
        show_reading(reading, steps_key="draw-steps")
        feedback_controls(reading, image, source="draw", key="draw", model_path=classifier.path)


@st.fragment
def upload_tab(classifier: DigitClassifier | None) -> None:
    """One result card per uploaded file; a bad file gets an error and the others still get answers."""
    files = st.file_uploader(
        "Photos or scans of handwritten digits or numbers",
        type=IMAGE_TYPES,
        accept_multiple_files=True,
        key="uploads",
    )
    if not files:
        st.caption("Dark ink on light paper or light on dark both work. One number per image, written in a row.")
        return
    if classifier is None:
        st.info("Predictions appear here once a model is available (see above).")
        return
    for file in files:
        with st.container(border=True):
            st.subheader(ui.plain(file.name), anchor=False)
            try:
                image = decode_image(file.getvalue())
            except ImageDecodeError as exc:
                st.error(f"Cannot read this file: {exc}", icon=":material/broken_image:")
                continue
            try:
                reading = classifier.read(image)
            except Exception as exc:  # one odd file must not take the others down; the log keeps the traceback
                log.exception("cannot read %s", file.name)
                st.error(f"Cannot process this image: {exc}", icon=":material/broken_image:")
                continue
            if reading.ok:
                st.image(ui.with_boxes(image, [d.box for d in reading.digits]), caption="What was read where",
                         width=min(ui.UPLOAD_WIDTH, image.shape[1]), output_format="PNG")
            show_reading(reading)
            feedback_controls(reading, image, source="upload", key=f"upload-{file.file_id}", model_path=classifier.path)


def model_tab(path: Path) -> None:
    """What the model is and how well it does, from the training run's card and figures."""
    card = ui.load_card(path.parent / "model_card.json")
    if card is None:
        st.info(f"No model card next to {path}. Training writes one: `{TRAIN_COMMAND}`")
        return
    training, test = card.get("training", {}), card.get("test", {})
    st.markdown(
        f"**{card.get('name', 'model')}**: a `{card.get('architecture', '?')}` network trained on "
        f"{training.get('train_images', 0):,} MNIST images, created {str(card.get('created', '?'))[:10]}."
    )
    accuracy, params, took, epochs = st.columns(4)
    accuracy.metric(
        "Test accuracy",
        f"{test['accuracy']:.2%}" if "accuracy" in test else "—",
        help="On the 10,000 MNIST test images, never seen in training",
    )
    params.metric("Parameters", f"{card['parameters']:,}" if "parameters" in card else "—")
    took.metric(
        "Training time",
        ui.duration_text(training["train_seconds"]) if "train_seconds" in training else "—",
        help=training.get("notes", "Wall-clock time of the training run"),
    )
    epochs.metric(
        "Epochs",
        f"{training.get('best_epoch', '?')} of {training.get('epochs_run', '?')}",
        help="The weights of the best epoch (lowest validation loss) are kept",
    )
    st.caption(f"Answers below {LOW_CONFIDENCE:.0%} confidence are shown as a guess with a warning.")
    lineage_section(card)
    helpers = ui.number_reader_lines(path.parent)
    if helpers:
        st.subheader("Reading whole numbers")
        st.markdown("Beside the digit classifier, two small networks help read a number of several digits:\n"
                    + "\n".join(helpers))
    second = ui.second_opinion_text(path.parent)
    if second:
        st.subheader("A second opinion on unsure digits")
        st.markdown(second)

    reports = path.parent / "reports"
    if test.get("per_class"):
        st.subheader("Per digit (MNIST test set)")
        percent = st.column_config.NumberColumn(format="%.2f %%")
        st.dataframe(ui.per_class_table(card), column_config={"precision": percent, "recall": percent, "F1": percent})
    if (reports / "comparison.md").is_file():
        st.subheader("Compared with other models")
        st.markdown((reports / "comparison.md").read_text())
    figures = [
        ("", "comparison.png"),
        ("Confusion matrix", "confusion_matrix.png"),
        ("Training curves", "training_curves.png"),
        ("The test images it gets most wrong", "worst_mistakes.png"),
        ("Training data samples", "data_samples.png"),
    ]
    for title, name in figures:  # whatever the training run produced; missing figures are skipped
        if (reports / name).is_file():
            if title:
                st.subheader(title)
            st.image(str(reports / name))
    with st.expander("Full model card"):
        st.json(card, expanded=1)


def main() -> None:
    st.set_page_config(page_title="Digit recognizer", page_icon=":material/draw:")
    st.title("Handwritten digit recognizer")
    st.caption("Draw a digit or a whole number, or upload a photo: a small neural network trained on MNIST reads it.")

    classifier, load_error = classifier_or_error()
    if load_error:
        st.error(load_error, icon=":material/error:")

    saving = save_enabled()
    tabs = st.tabs(["Draw", "Upload", *(["Your data"] if saving else []), "Model"])
    with tabs[0]:
        draw_tab(classifier)
    with tabs[1]:
        upload_tab(classifier)
    if saving:
        with tabs[2]:
            your_data_tab()
    with tabs[-1]:
        model_tab(model_path())


# Streamlit runs this file as __main__; the guard lets tests import its functions without drawing the page.
if __name__ == "__main__":
    main()
