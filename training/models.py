"""Network definitions. Every model maps float32 (N, 28, 28, 1) in [0, 1] to (N, 10) softmax."""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import layers

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


def build_mlp(name: str = "mlp") -> keras.Model:
    """The seed notebooks' MLP: two Dense 128 layers with dropout."""
    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name=name,
    )


def build_cnn(name: str = "cnn") -> keras.Model:
    """The seed notebooks' small CNN (as in the Keras ``mnist_convnet`` example)."""
    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name=name,
    )


def _conv_bn(x, filters: int, kernel: int, strides: int = 1, padding: str = "same"):
    # Conv without bias: batch norm's shift makes it redundant.
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def build_robust(name: str = "robust") -> keras.Model:
    """Production CNN: three conv blocks with batch norm and dropout, strided convs instead of pooling.

    Trained with the augmentation in ``training.augment``; the exported model has no
    augmentation layers, so inference is deterministic.
    """
    inputs = keras.Input(INPUT_SHAPE)
    x = _conv_bn(inputs, 32, 3)
    x = _conv_bn(x, 32, 3)
    x = _conv_bn(x, 32, 5, strides=2)
    x = layers.Dropout(0.3)(x)
    x = _conv_bn(x, 64, 3)
    x = _conv_bn(x, 64, 3)
    x = _conv_bn(x, 64, 5, strides=2)
    x = layers.Dropout(0.3)(x)
    x = _conv_bn(x, 128, 4, padding="valid")
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=name)


def build_ensemble(members: list[keras.Model], name: str = "ensemble") -> keras.Model:
    """One model that averages the members' probabilities: one file to serve, one forward pass per image."""
    inputs = keras.Input(INPUT_SHAPE)
    outputs = layers.Average(name="mean_probabilities")([m(inputs) for m in members])
    return keras.Model(inputs, outputs, name=name)


ARCHITECTURES: dict[str, Callable[..., keras.Model]] = {
    "mlp": build_mlp,
    "cnn": build_cnn,
    "robust": build_robust,
}
DEFAULT_ARCH = "robust"
