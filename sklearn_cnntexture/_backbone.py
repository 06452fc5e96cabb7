"""VGG16's convolutional stack, built once per process per weights source.

Nothing here is pickled: estimators hold only the plain parameters that name a
network (layers, weights source), and each process builds the Keras model on
first use and keeps it in :func:`_network`'s cache.
"""

import functools
import os
import re

import numpy as np

# The 13 convolutions of VGG16, in order, with the pooling layers between blocks.
CONV_LAYERS = (
    "block1_conv1", "block1_conv2",
    "block2_conv1", "block2_conv2",
    "block3_conv1", "block3_conv2", "block3_conv3",
    "block4_conv1", "block4_conv2", "block4_conv3",
    "block5_conv1", "block5_conv2", "block5_conv3",
)  # fmt: skip
#: The five layers of Ling et al. 2017 (C1,2 C2,2 C3,3 C4,3 C5,3).
PAPER_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")
#: Pseudo-layer: the input intensities themselves (the paper's no-CNN baseline).
IMAGE_LAYER = "image"

# Caffe preprocessing of VGG16: BGR channel order, minus the ImageNet BGR mean.
CAFFE_BGR_MEAN = np.array([103.939, 116.779, 123.68], dtype=np.float32)

_PAPER_NAME = re.compile(r"^c(\d)[_,](\d)$", re.IGNORECASE)


def canonical_layer(name):
    """Keras name of a layer given by Keras name or by the paper's name.

    ``"block3_conv3"``, ``"C3_3"`` and ``"C3,3"`` all give ``"block3_conv3"``;
    ``"image"`` is the no-CNN pseudo-layer.

    Raises
    ------
    ValueError
        For any other name; the message lists the valid ones.
    """
    if isinstance(name, str):
        if name in CONV_LAYERS or name == IMAGE_LAYER:
            return name
        match = _PAPER_NAME.match(name.strip())
        if match:
            keras_name = f"block{match[1]}_conv{match[2]}"
            if keras_name in CONV_LAYERS:
                return keras_name
    raise ValueError(
        f"Unknown layer {name!r}. Use a VGG16 convolution by Keras name "
        f"({', '.join(CONV_LAYERS)}), by the paper's name (C1_2, C2_2, C3_3, C4_3, "
        f"C5_3, ...), or {IMAGE_LAYER!r} for the raw image."
    )


def layer_order(layer):
    """Position of a layer in the network: the raw image (-1) first, then the convolutions."""
    return -1 if layer == IMAGE_LAYER else CONV_LAYERS.index(layer)


def paper_name(layer):
    """The paper's name of a layer, ``block3_conv3`` -> ``C3,3``; others unchanged."""
    if layer in CONV_LAYERS:
        return f"C{layer[5]},{layer[-1]}"
    return layer


def n_pools_before(layer):
    """How many 2x2 max-poolings an image passes through before ``layer``."""
    return 0 if layer == IMAGE_LAYER else int(layer[5]) - 1


def output_size(height, width, layer):
    """Spatial size of ``layer``'s output for an input of ``height`` x ``width``.

    VGG16 pools with 2x2 windows, stride 2, no padding: each pooling floors the
    size to half, so a side shorter than ``2 ** n_pools_before(layer)`` leaves
    nothing to convolve.
    """
    shrink = 2 ** n_pools_before(layer)
    return height // shrink, width // shrink


def n_channels(layer):
    """Number of filters of a convolution (1 for the raw image)."""
    if layer == IMAGE_LAYER:
        return 1
    return (64, 128, 256, 512, 512)[int(layer[5]) - 1]


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
