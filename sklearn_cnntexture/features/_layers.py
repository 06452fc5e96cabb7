"""VGG16's layers by name: what they are called and how big their outputs are.

The vocabulary every part of the library speaks (estimators, encoders, plots,
the command line), kept apart from the network so that none of them needs
TensorFlow to name a layer or count its filters.
"""

import re

from ..exceptions import InputError

# The 13 convolutions of VGG16, in order, with the pooling layers between blocks.
CONV_LAYERS = (
    "block1_conv1", "block1_conv2",
    "block2_conv1", "block2_conv2",
    "block3_conv1", "block3_conv2", "block3_conv3",
    "block4_conv1", "block4_conv2", "block4_conv3",
    "block5_conv1", "block5_conv2", "block5_conv3",
)  # fmt: skip
#: (input channels, output channels) of each of them: 3x3 kernels, stride 1, same padding.
CONV_SHAPES = (
    (3, 64), (64, 64),
    (64, 128), (128, 128),
    (128, 256), (256, 256), (256, 256),
    (256, 512), (512, 512), (512, 512),
    (512, 512), (512, 512), (512, 512),
)  # fmt: skip
#: The five layers of Ling et al. 2017 (C1,2 C2,2 C3,3 C4,3 C5,3).
PAPER_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")
#: Pseudo-layer: the input intensities themselves (the paper's no-CNN baseline).
IMAGE_LAYER = "image"

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
    raise InputError(
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
    return CONV_SHAPES[CONV_LAYERS.index(layer)][1]
