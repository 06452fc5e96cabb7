"""VGG16's convolutional stack, built once per process per weights source.

Nothing here is pickled: estimators hold only the plain parameters that name a
network (layers, weights source), and each process builds the Keras model on
first use and keeps it in :func:`_network`'s cache.
"""

import functools
import os

import numpy as np

from ._layers import CONV_LAYERS

# Caffe preprocessing of VGG16: BGR channel order, minus the ImageNet BGR mean.
CAFFE_BGR_MEAN = np.array([103.939, 116.779, 123.68], dtype=np.float32)

def _quiet_tensorflow():
    # TensorFlow's C++ start-up chatter (CUDA probing, CPU features) means nothing to
    # our users; respect a level they set themselves.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


_images_forwarded = 0


def count_images(n):
    """Record that ``n`` images went through the network (see backbone_image_count)."""
    global _images_forwarded
    _images_forwarded += n


def backbone_image_count():
    """How many images went through VGG16 in this process so far.

    Each image of each forward pass counts once, whatever the number of
    layers taken from it. Use it to check that a cached study runs each
    image through the network once: take the count before and after. Images
    processed by joblib workers in other processes are counted there, not
    here; run with ``n_jobs=1`` to count everything.

    Returns
    -------
    int
    """
    return _images_forwarded


@functools.lru_cache(maxsize=4)
def _network(weights_key):
    """The full VGG16 convolutional stack for a weights source (cached per process)."""
    _quiet_tensorflow()
    import keras

    from .weights import load_kernels

    kernels = load_kernels(weights_key)
    model = keras.applications.VGG16(
        weights=None, include_top=False, input_shape=(None, None, 3)
    )
    for name, (kernel, bias) in zip(CONV_LAYERS, kernels):
        model.get_layer(name).set_weights([kernel, bias])
    return model


@functools.lru_cache(maxsize=32)
def forward_function(weights_key, layers, jit_compile=True):
    """A function from a preprocessed batch (b, H, W, 3) to one array per layer.

    The model ends at the deepest of ``layers``: Keras prunes every layer that
    no requested output depends on. ``layers`` holds convolution names only.
    The function is compiled with XLA when ``jit_compile`` is true (once per
    input shape); on CPU that fuses bias and ReLU into the convolutions and is
    what brings the forward pass to matrix-multiply speed.
    """
    import keras
    import tensorflow as tf

    base = _network(weights_key)
    outputs = [base.get_layer(name).output for name in layers]
    model = keras.Model(base.input, outputs)

    @tf.function(jit_compile=jit_compile, reduce_retracing=True)
    def run(batch):
        return model(batch, training=False)

    def forward(batch):
        out = run(tf.constant(batch))
        out = out if isinstance(out, (list, tuple)) else [out]
        return [o.numpy() for o in out]

    return forward


def caffe_preprocess(rgb):
    """VGG16's caffe preprocessing of float RGB intensities on the 0-255 scale.

    Same as ``keras.applications.vgg16.preprocess_input``: RGB to BGR, then the
    ImageNet BGR mean subtracted. Works on (..., 3) arrays.
    """
    return rgb[..., ::-1] - CAFFE_BGR_MEAN
