"""On-the-fly augmentation that mimics real inputs after our preprocessing.

Our pipeline already centres and scales the digit, so what is left over in real inputs is
small: a slanted or rotated hand, a box that is not quite MNIST's, a shift of a pixel or
two from the centre of mass, strokes thinner or thicker than MNIST's, and blur from photos.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

# A 3x3 cross: dilating or eroding with it changes a stroke by about one pixel per side.
_CROSS = tf.constant([[-1.0, 0.0, -1.0], [0.0, 0.0, 0.0], [-1.0, 0.0, -1.0]], shape=(3, 3, 1))


def _thickness(images: tf.Tensor, rate: float) -> tf.Tensor:
    """Per image: dilate with probability ``rate``, erode with probability ``rate``, else keep."""
    dilated = tf.nn.dilation2d(images, _CROSS, strides=(1, 1, 1, 1), padding="SAME", data_format="NHWC", dilations=(1, 1, 1, 1))
    eroded = tf.nn.erosion2d(images, _CROSS, strides=(1, 1, 1, 1), padding="SAME", data_format="NHWC", dilations=(1, 1, 1, 1))
    # Erosion can wipe out thin digits; keep it only where enough ink survives.
    eroded = tf.where(
        tf.reduce_sum(eroded, axis=[1, 2, 3], keepdims=True) > 0.4 * tf.reduce_sum(images, axis=[1, 2, 3], keepdims=True),
        eroded,
        images,
    )
    u = tf.random.uniform([tf.shape(images)[0], 1, 1, 1])
    return tf.where(u < rate, dilated, tf.where(u < 2 * rate, eroded, images))


def _blur(images: tf.Tensor, rate: float) -> tf.Tensor:
    """Gaussian blur (sigma ~0.6-1) on a fraction ``rate`` of the images."""
    sigma = tf.random.uniform([], 0.6, 1.0)
    k = tf.exp(-tf.square(tf.range(-1.0, 2.0)) / (2.0 * sigma**2))
    k = k / tf.reduce_sum(k)
    kernel = tf.reshape(tf.tensordot(k, k, axes=0), (3, 3, 1, 1))
    blurred = tf.nn.conv2d(images, kernel, strides=1, padding="SAME")
    u = tf.random.uniform([tf.shape(images)[0], 1, 1, 1])
    return tf.where(u < rate, blurred, images)


def build_augmenter(seed: int = 0) -> keras.Sequential:
    """Geometric augmentation: rotation +-12 deg, zoom +-12%, shift +-2 px, shear.

    Always float32, also under mixed precision: it is preprocessing, not part of the network.
    """
    return keras.Sequential(
        [
            layers.RandomRotation(12 / 360, fill_mode="constant", seed=seed, dtype="float32"),
            layers.RandomZoom(0.12, fill_mode="constant", seed=seed + 1, dtype="float32"),
            layers.RandomShear(x_factor=0.15, y_factor=0.0, fill_mode="constant", seed=seed + 2, dtype="float32"),
            layers.RandomTranslation(2 / 28, 2 / 28, fill_mode="constant", seed=seed + 3, dtype="float32"),
        ],
        name="augment",
    )


def augment_batch(
    augmenter: keras.Sequential, images: tf.Tensor, thickness_rate: float = 0.15, blur_rate: float = 0.15
) -> tf.Tensor:
    """Apply the whole augmentation to a float batch (N, 28, 28, 1) in [0, 1]."""
    x = augmenter(images, training=True)
    x = _thickness(x, thickness_rate)
    x = _blur(x, blur_rate)
    return tf.clip_by_value(x, 0.0, 1.0)
