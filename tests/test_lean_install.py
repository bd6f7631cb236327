"""The app install (requirements.txt) has no training stack: the app and the CLI must work without it.

A subprocess whose ``import tensorflow`` / ``import keras`` fails stands in for that install: any
module-level import of them on the app's or the CLI's path breaks these tests.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT
from tests.digit_images import draw_digit, png_bytes

TRAINING_STACK = ("tensorflow", "keras", "tf2onnx", "onnx", "scikit-learn", "matplotlib", "ray")


def run_without_training_stack(tmp_path, args: list[str]) -> subprocess.CompletedProcess:
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n# None in sys.modules: importing these raises ImportError, as in an app-only install\n"
        "sys.modules.update(dict.fromkeys(['tensorflow', 'keras', 'sklearn', 'matplotlib']))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def requirement_names(name: str) -> set[str]:
    lines = (ROOT / name).read_text().splitlines()
    return {re.split(r"[=<>\[ ]", line.strip())[0].lower() for line in lines if line.strip() and not line.startswith(("#", "-r"))}


def test_app_requirements_leave_out_the_training_stack_and_dev_has_everything():
    assert requirement_names("requirements.txt").isdisjoint(TRAINING_STACK)
    everything = set()
    for name in ("requirements.txt", "requirements-train.txt", "requirements-cluster.txt", "requirements-dev.txt"):
        everything |= requirement_names(name)
    assert set(TRAINING_STACK) <= everything
    dev = (ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements-train.txt" in dev and "-r requirements-cluster.txt" in dev  # CI installs dev: everything


def test_app_and_cli_run_without_tensorflow(classifier, tmp_path):
    image = tmp_path / "seven.png"
    image.write_bytes(png_bytes(draw_digit("7")))
    script = textwrap.dedent(f"""
        import sys
        from streamlit.testing.v1 import AppTest
        from model.cli import main
        assert main(["predict", "--json", {str(image)!r}]) == 0
        at = AppTest.from_file("app.py", default_timeout=120).run()
        assert not at.exception, at.exception
        assert at.tabs and not at.error, at.error
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras") and sys.modules[m] is not None)
        assert not loaded, loaded
        print("lean ok")
    """)
    proc = run_without_training_stack(tmp_path, ["-c", script])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '"text": "7"' in proc.stdout and "lean ok" in proc.stdout


@pytest.mark.parametrize("command", ["training.train", "training.evaluate", "training.export"])
def test_training_commands_say_what_to_install(tmp_path, command):
    proc = run_without_training_stack(tmp_path, ["-m", command, "--help"])
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith("error: The training commands need the training stack (")
    assert line.endswith("not installed): pip install -r requirements-train.txt")
