"""Features of a set of images as a table: for ``cnntexture featurize`` and other tools."""

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from . import io
from .study import ENCODERS
from .union import MultiLayerUnion
from .vgg import VGGLayerTransformer

__all__ = ["featurize", "make_featurizer"]


def make_featurizer(layers="block4_conv3", encoder="mean", **vgg_params):
    """A pipeline from images to features: VGG16 layer(s), then an encoder.

    Parameters
    ----------
    layers : str or list of str, default="block4_conv3"
        One layer, or several: then the encoder is applied to each and the
        features concatenated (:class:`MultiLayerUnion`).
    encoder : {"mean", "max", "gram", "vlad"} or encoder, default="mean"
        The encoding, by name (default parameters) or as an estimator.
    **vgg_params
        Passed to :class:`VGGLayerTransformer` (weights, crop, resize, ...).

    Returns
    -------
    pipeline : Pipeline
        Steps ``"vgg"`` and ``"encode"``.

    Examples
    --------
    >>> from sklearn_cnntexture.featurize import make_featurizer
    >>> make_featurizer(["C1_2", "C2_2"], "gram", weights=None, random_state=0)
    Pipeline(steps=[('vgg',
                     VGGLayerTransformer(layers=['C1_2', 'C2_2'], random_state=0,
                                         weights=None)),
                    ('encode', MultiLayerUnion(encoder=GramEncoder()))])
    """
    if isinstance(encoder, str):
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {list(ENCODERS)}, got {encoder!r}")
        encoder = ENCODERS[encoder]()
    several = not isinstance(layers, str) and len(layers) > 1
    if not isinstance(layers, str) and len(layers) == 1:
        layers = layers[0]
    step = MultiLayerUnion(encoder) if several else encoder
    return Pipeline([("vgg", VGGLayerTransformer(layers, **vgg_params)), ("encode", step)])


def featurize(X, layers="block4_conv3", encoder="mean", **vgg_params):
    """Features of images ``X`` as a DataFrame with named columns.

    Parameters
    ----------
    X : list of str or images
        Image file paths (streamed batch by batch) or arrays.
    layers, encoder, **vgg_params
        See :func:`make_featurizer`. A learning encoder (VLAD) is fitted on
        ``X`` itself.

    Returns
    -------
    table : pandas.DataFrame
        Column ``path`` (the file path, or the image's index for arrays),
        then one column per feature, named ``block3_conv3__mean__17`` etc.
    """
    pipeline = make_featurizer(layers, encoder, **vgg_params)
    features = pipeline.fit_transform(X)
    names = pipeline.get_feature_names_out()
    paths = [str(x) if io.is_image_path(x) else i for i, x in enumerate(X)]
    table = pd.DataFrame(np.asarray(features), columns=names)
    table.insert(0, "path", paths)
    return table
