"""Features of a set of images as a table: for ``cnntexture featurize`` and other tools."""

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from . import io
from .encoders import ENCODERS
from .provenance import provenance
from .union import MultiLayerUnion
from .vgg import VGGLayerTransformer

__all__ = ["featurize", "make_featurizer"]


def make_featurizer(vgg=None, encoder="mean"):
    """A pipeline from images to features: VGG16 layer(s), then an encoder.

    Parameters
    ----------
    vgg : VGGLayerTransformer or None, default=None
        The network step (cloned). Its ``layers`` decide the encoding: one
        layer is encoded as is; several are each encoded and the features
        concatenated (:class:`MultiLayerUnion`). None is
        ``VGGLayerTransformer()`` (block4_conv3).
    encoder : {"mean", "max", "gram", "vlad"} or encoder, default="mean"
        The encoding, by name (default parameters) or as an estimator.

    Returns
    -------
    pipeline : Pipeline
        Steps ``"vgg"`` and ``"encode"``.

    Examples
    --------
    >>> from sklearn_cnntexture import VGGLayerTransformer
    >>> from sklearn_cnntexture.featurize import make_featurizer
    >>> vgg = VGGLayerTransformer(["C1_2", "C2_2"], weights=None, random_state=0)
    >>> make_featurizer(vgg, "gram")
    Pipeline(steps=[('vgg',
                     VGGLayerTransformer(layers=['C1_2', 'C2_2'], random_state=0,
                                         weights=None)),
                    ('encode', MultiLayerUnion(encoder=GramEncoder()))])
    """
    if isinstance(encoder, str):
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {list(ENCODERS)}, got {encoder!r}")
        encoder = ENCODERS[encoder]()
    vgg = VGGLayerTransformer() if vgg is None else clone(vgg)
    layers = vgg.layers
    if not isinstance(layers, str) and len(layers) == 1:
        vgg.set_params(layers=layers[0])  # one layer: the encoder takes it directly
    several = not isinstance(vgg.layers, str)
    step = MultiLayerUnion(encoder) if several else encoder
    return Pipeline([("vgg", vgg), ("encode", step)])


def featurize(X, vgg=None, encoder="mean"):
    """Features of images ``X`` as a DataFrame with named columns.

    Parameters
    ----------
    X : list of str or images
        Image file paths (streamed batch by batch) or arrays.
    vgg, encoder
        See :func:`make_featurizer`. A learning encoder (VLAD) is fitted on
        ``X`` itself.

    Returns
    -------
    table : pandas.DataFrame
        Column ``path`` (the file path, or the image's index for arrays),
        then one column per feature, named ``block3_conv3__mean__17`` etc.
        ``table.attrs["provenance"]`` records the weights (with a digest of
        their content), crop, resize and library versions
        (:func:`~sklearn_cnntexture.provenance.provenance`).
    """
    pipeline = make_featurizer(vgg, encoder)
    features = pipeline.fit_transform(X)
    names = pipeline.get_feature_names_out()
    paths = [str(x) if io.is_image_path(x) else i for i, x in enumerate(X)]
    table = pd.DataFrame(np.asarray(features), columns=names)
    table.insert(0, "path", paths)
    table.attrs["provenance"] = provenance(pipeline.named_steps["vgg"])
    return table
