"""MultiLayerUnion: one encoder over several VGG16 layers, from one forward pass."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.utils.validation import check_is_fitted

from ..exceptions import InputError
from .encoders import ENCODERS, MeanPool, is_activation_source

#: The ``layer`` of a union's row in the study's table.
UNION = "union"


class MultiLayerUnion(TransformerMixin, BaseEstimator):
    """Apply one encoder to every layer of multi-layer activations, concatenated.

    The paper's "all five layers" model [1]_: put
    ``VGGLayerTransformer(layers=PAPER_LAYERS)`` before it and it encodes each
    layer with its own copy of ``encoder`` and concatenates the features,
    layer by layer, in the order of the layers. The images go through the
    network once for all layers (twice in ``fit_transform`` for an encoder that
    learns from the data, such as :class:`VLADEncoder`: once to learn, once to
    encode): the first layer's per-image results are computed for every layer
    at once and kept in memory for the others
    (:meth:`~sklearn_cnntexture.Activations.in_memory`); with a cache, they
    come from it.

    Like :class:`~sklearn.pipeline.FeatureUnion`, parameters nest
    (``encoder__triangle``) and output names carry the layer
    (``block3_conv3__mean__17``).

    Parameters
    ----------
    encoder : encoder estimator, default=None
        One of :class:`MeanPool`, :class:`MaxPool`, :class:`GramEncoder`,
        :class:`VLADEncoder`; None means ``MeanPool()``. It is cloned for each
        layer.

    Attributes
    ----------
    encoders_ : dict of str to encoder
        The fitted encoder of each layer, in output order. For plain array
        input (one unnamed layer) the key is ``"x"``.
    n_features_in_ : int
        Number of input channels, for plain array input only.
    feature_names_in_ : ndarray of str
        Input column names, for 2-D DataFrame input only.

    See Also
    --------
    VGGLayerTransformer : Gives the multi-layer activations.
    sklearn.pipeline.FeatureUnion : The general union of transformers.

    References
    ----------
    .. [1] J. Ling et al., Materials Discovery 10 (2017) 19-28.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnntexture import MultiLayerUnion, VGGLayerTransformer
    >>> images = np.random.default_rng(0).random((3, 16, 16))
    >>> vgg = VGGLayerTransformer(["C1_2", "C2_2"], weights=None, random_state=0)
    >>> union = MultiLayerUnion().fit(vgg.transform(images))
    >>> union.transform(vgg.transform(images)).shape
    (3, 192)
    >>> union.get_feature_names_out()[[0, 64]]
    array(['block1_conv2__mean__0', 'block2_conv2__mean__0'], dtype=object)
    """

    _parameter_constraints = {"encoder": [*ENCODERS.values(), None]}

    def __init__(self, encoder=None):
        self.encoder = encoder

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit one copy of the encoder per layer.

        Parameters
        ----------
        X : Activations or array-like
            Activations of one or more layers; a plain array is one layer.
        y : None
            Ignored.

        Returns
        -------
        self : MultiLayerUnion
        """
        self._fit(X)
        return self

    def transform(self, X):
        """Encode every layer and concatenate, in one pass over the images.

        Parameters
        ----------
        X : Activations or array-like
            Activations of the layers fitted on.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features_out)
        """
        check_is_fitted(self)
        fitted_on_arrays = "x" in self.encoders_
        if fitted_on_arrays == is_activation_source(X):
            raise InputError(
                "MultiLayerUnion was fitted on "
                + ("a plain array" if fitted_on_arrays
                   else f"activations of {list(self.encoders_)}")
                + " and cannot transform "
                + ("activations" if is_activation_source(X) else "a plain array")
            )
        if fitted_on_arrays:
            return self.encoders_["x"].transform(X)
        if tuple(X.layers) != tuple(self.encoders_):
            raise InputError(
                f"MultiLayerUnion was fitted on layers {list(self.encoders_)}, "
                f"got {list(X.layers)}"
            )
        shared = _shared(X)
        per_image = {layer: encoder.per_image_encoding()
                     for layer, encoder in self.encoders_.items()
                     if callable(getattr(encoder, "per_image_encoding", None))}
        if per_image and callable(getattr(shared, "precompute", None)):
            # Each layer's own function (VLAD's words): all computed in one pass.
            shared.precompute([(layer, *encoding) for layer, encoding in per_image.items()])
        return np.concatenate(
            [encoder.transform(shared[layer]) for layer, encoder in self.encoders_.items()], axis=1
        )

    def get_feature_names_out(self, input_features=None):
        """Each layer's encoder's names, in order: ``block3_conv3__mean__17``.

        Parameters
        ----------
        input_features : array-like of str or None
            Input channel names, for plain array input only.

        Returns
        -------
        names : ndarray of str objects
        """
        check_is_fitted(self)
        if "x" in self.encoders_:
            return self.encoders_["x"].get_feature_names_out(input_features)
        return np.concatenate([enc.get_feature_names_out() for enc in self.encoders_.values()])

    def _prototype(self):
        return MeanPool() if self.encoder is None else self.encoder

    def _fit(self, X):
        prototype = self._prototype()
        if not is_activation_source(X):
            encoder = clone(prototype).fit(X)
            self.encoders_ = {"x": encoder}
            self.n_features_in_ = encoder.n_features_in_
            if hasattr(encoder, "feature_names_in_"):
                self.feature_names_in_ = encoder.feature_names_in_
            return
        for attr in ("n_features_in_", "feature_names_in_"):
            self.__dict__.pop(attr, None)
        # Nothing to learn (fit only records the layer), or per-image samples
        # that the first layer computes for all (see _shared).
        shared = _shared(X)
        self.encoders_ = {layer: clone(prototype).fit(shared[layer]) for layer in X.layers}


def _shared(X):
    """``X`` with its per-image results shared by its layers: one pass computes all."""
    if getattr(X, "cached", False) or not callable(getattr(X, "in_memory", None)):
        return X
    return X.in_memory()
