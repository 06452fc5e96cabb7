"""Texture features of microstructure images from a pretrained VGG16, for scikit-learn.

The method of Ling et al. 2017: VGG16 layer activations (:class:`VGGLayerTransformer`),
a translation-invariant encoding (:class:`MeanPool`, :class:`MaxPool`,
:class:`GramEncoder`, :class:`VLADEncoder`, or several layers at once with
:class:`MultiLayerUnion`), then any scikit-learn model.
"""

from .exceptions import InputError
from .explain import activation_heatmap, characteristic_textures, important_textures
from .explain.textures import FilterTextures, filter_textures
from .features import (
    GramEncoder,
    MaxPool,
    MeanPool,
    MultiLayerUnion,
    VGGLayerTransformer,
    VLADEncoder,
    WithColumns,
)
from .features._activations import Activations
from .features._backbone import backbone_image_count
from .features._layers import CONV_LAYERS, PAPER_LAYERS
from .features.weights import WeightsUnavailableError
from .io.datasets import load_image_dataset, load_uhcs_sample
from .study import Study

__version__ = "0.1.0"

__all__ = [
    "Activations",
    "FilterTextures",
    "CONV_LAYERS",
    "GramEncoder",
    "InputError",
    "MaxPool",
    "MeanPool",
    "MultiLayerUnion",
    "PAPER_LAYERS",
    "Study",
    "VGGLayerTransformer",
    "VLADEncoder",
    "WithColumns",
    "WeightsUnavailableError",
    "activation_heatmap",
    "backbone_image_count",
    "characteristic_textures",
    "filter_textures",
    "important_textures",
    "load_image_dataset",
    "load_uhcs_sample",
]
