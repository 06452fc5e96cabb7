"""Texture features: images -> VGG16 activations -> translation-invariant encodings.

The network (``_backbone``, ``weights``, ``_layers``) is the only place TensorFlow
lives; ``vgg`` turns images into activations through ``_preprocess`` (crop,
intensities, pixel size, resize), ``_forward`` (batches and tiles) and
``_results`` (per-image statistics, ``_stats``, kept in ``_cache``);
``encoders`` and ``union`` are numpy maths over those activations, ``columns``
puts a data table's columns beside them (WithColumns); ``featurize``
builds the feature pipelines, ``parallel`` runs them on joblib or Dask workers.
"""

from .columns import WithColumns
from .encoders import GramEncoder, MaxPool, MeanPool, VLADEncoder
from .featurize import make_featurizer
from .union import MultiLayerUnion
from .vgg import VGGLayerTransformer

__all__ = [
    "GramEncoder",
    "MaxPool",
    "MeanPool",
    "MultiLayerUnion",
    "VGGLayerTransformer",
    "VLADEncoder",
    "WithColumns",
    "make_featurizer",
]
