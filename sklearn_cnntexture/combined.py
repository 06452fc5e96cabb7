"""Encoders combined: mean and reduced Gram features of several layers; multi-scale input.

Two candidates beyond the paper's grid, offered by the study only where they
help (``study_grid(combined=...)``; measured on the real data in
``docs/study_explain.rst``):

- :class:`MeanGramUnion`: the mean features of every layer, plus the Gram
  features of a few layers reduced by a PCA fitted in ``fit``. In the study
  ``fit`` only ever sees a training fold, so the reduction cannot leak test
  images into the features.
- :class:`MultiScale`: the image and its half-size version through the network,
  their features concatenated (DeCost et al.'s multiscale features [1]_).

References
----------
.. [1] B. L. DeCost, T. Francis, E. A. Holm, "Exploring the microstructure
   manifold: image texture representations applied to ultrahigh carbon steel
   microstructures", Acta Materialia 133 (2017) 30-40.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.decomposition import PCA
from sklearn.utils.validation import check_is_fitted

from . import io
from ._layers import canonical_layer
from .encoders import GramEncoder, MeanPool
from .union import MultiLayerUnion

__all__ = ["MeanGramUnion", "MultiScale"]


class MeanGramUnion(TransformerMixin, BaseEstimator):
    """Mean features of every layer, plus a PCA of the Gram features of some.

    Parameters
    ----------
    gram_layers : sequence of str, default=("block1_conv2", "block2_conv2", "block3_conv3")
        Layers whose Gram features are added. The deeper layers' Gram
        (131,328 features each) is left out by default: it costs memory and
        adds little to their mean features.
    n_components : int, default=32
        Principal components kept of each layer's Gram features (at most
        the number of training images minus one).

    Attributes
    ----------
    means_ : MultiLayerUnion
        The fitted mean encoder of all layers.
    grams_ : dict of str to (GramEncoder, PCA)
        Each Gram layer's encoder and its PCA, fitted on the training images.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnntexture import VGGLayerTransformer
    >>> from sklearn_cnntexture.combined import MeanGramUnion
    >>> images = np.random.default_rng(0).random((6, 16, 16))
    >>> vgg = VGGLayerTransformer(["C1_2", "C2_2"], weights=None, random_state=0)
    >>> acts = vgg.transform(images)
    >>> MeanGramUnion(["C1_2"], n_components=2).fit_transform(acts).shape
    (6, 194)
    """

    name = "mean+gram"

    def __init__(self, gram_layers=("block1_conv2", "block2_conv2", "block3_conv3"),
                 n_components=32):
        self.gram_layers = gram_layers
        self.n_components = n_components

    def fit(self, X, y=None):
        """Fit the mean encoders and each Gram layer's PCA on ``X``'s images."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None):
        """Fit, and return the features of ``X`` (one pass over the Gram features)."""
        if not isinstance(self.n_components, int) or self.n_components < 1:
            raise ValueError(f"n_components={self.n_components!r}: keep at least 1 component")
        self.means_ = MultiLayerUnion(MeanPool()).fit(X)
        parts = [self.means_.transform(X)]
        self.grams_ = {}
        for layer in self._layers(X):
            gram = GramEncoder().fit(X[layer])
            values = gram.transform(X[layer])
            pca = PCA(min(self.n_components, *values.shape), random_state=0).fit(values)
            self.grams_[layer] = (gram, pca)
            parts.append(pca.transform(values))
        return np.concatenate(parts, axis=1)

    def transform(self, X):
        """Mean features of every layer, then each Gram layer's principal components."""
        check_is_fitted(self)
        parts = [self.means_.transform(X)]
        parts += [pca.transform(gram.transform(X[layer]))
                  for layer, (gram, pca) in self.grams_.items()]
        return np.concatenate(parts, axis=1)

    def _layers(self, X):
        wanted = [canonical_layer(layer) for layer in self.gram_layers]
        missing = [layer for layer in wanted if layer not in X.layers]
        if missing:
            raise ValueError(f"MeanGramUnion's gram_layers {missing} are not among the "
                             f"activations' layers {list(X.layers)}")
        return wanted


def _size_of(item):
    return io.image_size(item) if io.is_image_path(item) else np.shape(item)[:2]


class MultiScale(TransformerMixin, BaseEstimator):
    """The image at several scales through the network, features concatenated.

    Replaces both the network step and the encoder of the study's pipeline
    (its ``vgg`` step is then ``"passthrough"``): for each scale, each image
    is resized to that fraction of its own size (the network's ``resize`` is
    ignored at scale 1 too, so both scales see the same field of view),
    passed through ``vgg`` (its cache included) and encoded by ``encoder``.

    Parameters
    ----------
    vgg : VGGLayerTransformer
        The network, layers and cache (cloned per scale and image size).
    encoder : encoder, default=None
        Applied to each scale; None is ``MultiLayerUnion(MeanPool())``.
    scales : sequence of float, default=(1.0, 0.5)
        Fractions of each image's size; DeCost et al. used the image and its
        half-size version.

    Attributes
    ----------
    encoders_ : list of encoder
        The encoder fitted at each scale.
    """

    name = "multiscale"

    def __init__(self, vgg, encoder=None, scales=(1.0, 0.5)):
        self.vgg = vgg
        self.encoder = encoder
        self.scales = scales

    def _features(self, X, fit):
        X = list(X)
        sizes = [_size_of(item) for item in X]
        parts = []
        for k, scale in enumerate(self.scales):
            if not 0 < scale <= 4:
                raise ValueError(f"scales must be in (0, 4], got {scale!r}")
            # One network input size per distinct image size (the cache keys on it).
            # At scale 1 the image's own size is no resize at all: the cache's
            # native-size entries serve it.
            target = [None if scale == 1
                      else (max(32, round(h * scale)), max(32, round(w * scale)))
                      for h, w in sizes]
            by_size = {}
            for i, size in enumerate(target):
                by_size.setdefault(size, []).append(i)
            if fit:
                prototype = MultiLayerUnion(MeanPool()) if self.encoder is None else self.encoder
                self.encoders_.append(clone(prototype))
            encoder = self.encoders_[k]
            out = None
            for size, members in by_size.items():
                acts = clone(self.vgg).set_params(resize=size).transform([X[i] for i in members])
                if fit and out is None:
                    encoder.fit(acts)  # mean and max learn nothing from the data
                values = encoder.transform(acts)
                if out is None:
                    out = np.empty((len(X), values.shape[1]))
                out[members] = values
            parts.append(out)
        return np.concatenate(parts, axis=1)

    def fit(self, X, y=None):
        """Fit each scale's encoder (mean and max need only the layers' names)."""
        self.encoders_ = []
        self._features(X, fit=True)
        return self

    def fit_transform(self, X, y=None):
        self.encoders_ = []
        return self._features(X, fit=True)

    def transform(self, X):
        """Features of every scale, concatenated scale by scale."""
        check_is_fitted(self)
        return self._features(X, fit=False)
