"""Translation-invariant texture encoders: MeanPool, MaxPool, GramEncoder, VLADEncoder.

Each turns a set of local descriptors per sample into one fixed-length vector
that does not depend on where in the image the descriptors were, the second
step of Ling et al. 2017. Input is channels last, with any number of location
axes:

- ``(n, C)``: one location per sample (plain tabular data);
- ``(n, L, C)`` or ``(n, H, W, C)``: L or H x W locations per sample;
- a list of ``(..., C)`` arrays with different numbers of locations (images of
  different sizes);
- an *activation source*: any object offering the activations of one layer
  batch by batch, such as the lazy :class:`~sklearn_cnntexture.Activations`
  of one VGG16 layer, so memory stays bounded by the batch.

An activation source has

- ``layers``: a tuple with the name of its one layer (it names the features);
- ``shape``: a tuple whose last entry is the number of channels;
- ``len(source)``: the number of samples;
- ``iter_batches()``: yields arrays ``(b, *locations, C)``, or lists of
  ``(*locations, C)`` arrays when the samples differ in size;

and may offer per-sample results:

- ``statistics(names, head=None)``: per-sample statistics of ``_stats.py``
  (``"mean"``, ``"max"``, ``"gram"``, ``"n_locations"``, ``"descriptors"``),
  a dict from name to a list with one array per sample;
- ``map_images(key, function)``: ``function`` of each sample's (L, C) array,
  reused under ``key``; ``function`` is a sum over locations (its arrays add
  up over any split of them).

The encoders then use those instead of iterating the batches: this is how a
cached study encodes without running the network, and how an image larger
than memory is encoded tile by tile (every encoder is a sum or a maximum over
locations). They never import the network, the cache or the activations: the
source decides how its batches and statistics are made.

A stack of raw grayscale images needs its channel axis: ``images[..., None]``
is ``(n, H, W, 1)`` (a 3-D array is read as ``(n, L, C)``, never guessed), or use
``VGGLayerTransformer(layers="image")``.
"""

import copy
import hashlib
from numbers import Integral, Real

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_array,
    check_is_fitted,
    validate_data,
)
from threadpoolctl import threadpool_limits

from ..exceptions import InputError
from . import _stats

_CHUNK = 256  # samples per step when the input is one in-memory array


def is_activation_source(X):
    """Whether ``X`` is an activation source (see the module docstring), not an array."""
    # Not hasattr(X, "shape"): a source of several layers has no one shape and
    # may raise for it; the layer count is checked first, then the shape.
    return callable(getattr(X, "iter_batches", None)) and hasattr(X, "layers")


def _offers_statistics(X):
    """Whether the source computes per-sample results itself (see the module docstring)."""
    return callable(getattr(X, "statistics", None)) and callable(getattr(X, "map_images", None))


class _BaseEncoder(TransformerMixin, BaseEstimator):
    """Input handling and the fit/encode steps shared by the encoders.

    Subclasses define ``_name`` (used in feature names; see :data:`ENCODERS`),
    ``_statistics`` (the ``_stats`` statistics the features derive from) and
    ``_from_statistics(stats)`` from those statistics, stacked one row per
    sample, to (b, n_outputs) features, plus ``_output_tokens(channels)``. An
    encoder that learns from the data (VLAD) overrides ``_learns_from_data``,
    ``_fit_groups``, ``_fit_image_samples`` and ``_encode_source``.
    """

    _name = ""
    _statistics = ()
    _learns_from_data = False

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the encoder (only :class:`VLADEncoder` learns anything).

        Parameters
        ----------
        X : array-like of shape (n_samples, ..., n_channels), list of arrays \
                or activation source
            Local descriptors per sample, channels last.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        if is_activation_source(X):
            self._check_source(X, reset=True)
            if self._learns_from_data:
                if _offers_statistics(X):
                    self._fit_image_samples(X)
                else:
                    self._fit_groups(_source_groups(X))
            return self
        # Arrays are validated here; lazy activations are not run unless needed.
        groups = self._groups(X, reset=True)
        if self._learns_from_data:
            self._fit_groups(groups)
        return self

    def transform(self, X):
        """Encode each sample into one vector.

        Parameters
        ----------
        X : array-like of shape (n_samples, ..., n_channels), list of arrays \
                or activation source
            Local descriptors per sample, channels last.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features_out)
            float32 for float32 input (and for activations), else float64.
        """
        check_is_fitted(self)
        if is_activation_source(X):
            self._check_source(X, reset=False)
            return self._encode_source(X)
        return self._encode_all(self._groups(X, reset=False))

    def fit_transform(self, X, y=None):
        """Fit, then encode ``X``; one pass over it unless the encoder learns.

        Parameters
        ----------
        X : array-like of shape (n_samples, ..., n_channels), list of arrays \
                or activation source
            Local descriptors per sample, channels last.
        y : None
            Ignored.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features_out)
        """
        if self._learns_from_data:
            return self.fit(X).transform(X)
        self._validate_params()
        if is_activation_source(X):
            self._check_source(X, reset=True)
            return self._encode_source(X)
        return self._encode_all(self._groups(X, reset=True))

    def get_feature_names_out(self, input_features=None):
        """Output feature names: layer, encoder and filter, ``block3_conv3__mean__17``.

        Parameters
        ----------
        input_features : array-like of str or None
            Names of the input channels; by default the fitted ones
            (``feature_names_in_``) or the filter indices.

        Returns
        -------
        names : ndarray of str objects
        """
        check_is_fitted(self)
        if self.layer_ is not None:
            # Fitted on activations: channels are the layer's filters, by index.
            # (In a Pipeline, input_features are VGGLayerTransformer's
            # "block3_conv3__17" names; the layer is already in the prefix.)
            if input_features is not None and len(input_features) != self.n_features_in_:
                raise InputError(
                    f"input_features has {len(input_features)} names, but "
                    f"{type(self).__name__} was fitted on {self.n_features_in_} filters"
                )
            channels = [str(i) for i in range(self.n_features_in_)]
        elif input_features is None and not hasattr(self, "feature_names_in_"):
            channels = [str(i) for i in range(self.n_features_in_)]
        else:
            channels = _check_feature_names_in(self, input_features)
        prefix = f"{self.layer_}__" if self.layer_ else ""
        return np.asarray(
            [f"{prefix}{self._name}__{token}" for token in self._output_tokens(channels)],
            dtype=object,
        )

    # -- encoding -----------------------------------------------------------

    def _encode(self, F):
        """Features of a (b, L, C) float array: the statistics, then the features."""
        return self._from_statistics(_stats.compute(F, self._statistics))

    def _encode_all(self, groups):
        parts = [self._encode(F) for F in groups]
        if not parts:
            raise InputError("no samples to encode")
        return np.concatenate(parts)

    def _encode_source(self, X):
        if not _offers_statistics(X):
            return self._encode_all(_source_groups(X))
        stats = X.statistics(self._statistics)
        return self._from_statistics({name: np.stack(v) for name, v in stats.items()})

    def _output_tokens(self, channels):
        return list(channels)

    # -- input handling -------------------------------------------------------

    def _groups(self, X, *, reset):
        """Validate array input ``X`` and return an iterator over it as (b, L, C) floats.

        Sets (``reset=True``) or checks the channel count.
        """
        if isinstance(X, (list, tuple)) and X and not _is_rectangular(X):
            return self._ragged_groups(X, reset=reset)
        return self._array_groups(X, reset=reset)

    def _array_groups(self, X, *, reset):
        dtypes = [np.float64, np.float32]
        array = check_array(X, allow_nd=True, dtype=dtypes, input_name="X")
        if array.ndim == 2:
            # 2-D goes through validate_data: it records feature_names_in_ of
            # DataFrames (hence the original X) and checks the feature count.
            array = validate_data(self, X, reset=reset, dtype=dtypes)
        else:
            self._check_features(array.shape[-1], None, reset=reset)
            if reset and hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        if array.ndim == 2:
            array = array[:, np.newaxis, :]
        if 0 in array.shape[1:-1]:
            raise InputError(f"X has shape {array.shape}: samples without locations")
        if reset:
            self.layer_ = None
        chunks = range(0, len(array), _CHUNK)
        return (next(_stats.as_groups(array[i : i + _CHUNK])) for i in chunks)

    def _ragged_groups(self, X, *, reset):
        samples = []
        for i, sample in enumerate(X):
            sample = check_array(
                sample, allow_nd=True, dtype=[np.float64, np.float32], input_name=f"X[{i}]"
            )
            if samples and sample.shape[-1] != samples[0].shape[-1]:
                raise InputError(
                    f"X[{i}] has {sample.shape[-1]} channels, X[0] has {samples[0].shape[-1]}"
                )
            samples.append(sample)
        self._check_features(samples[0].shape[-1], None, reset=reset)
        if reset:
            self.layer_ = None
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        return _stats.as_groups(samples)

    def _check_source(self, X, *, reset):
        if len(X.layers) != 1:
            raise InputError(
                f"{type(self).__name__} got activations of {len(X.layers)} layers "
                f"{list(X.layers)}; wrap it in MultiLayerUnion({type(self).__name__}()) "
                "to encode each layer and concatenate the features."
            )
        (layer,) = X.layers
        self._check_features(X.shape[-1], layer, reset=reset)
        if reset and hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return layer

    def _check_features(self, n_features, layer, *, reset):
        if reset:
            self.n_features_in_ = n_features
            self.layer_ = layer
            return
        if n_features != self.n_features_in_:
            raise InputError(
                f"X has {n_features} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        if layer is not None and self.layer_ is not None and layer != self.layer_:
            raise InputError(
                f"{type(self).__name__} was fitted on activations of {self.layer_}, "
                f"got {layer}"
            )


def _source_groups(X):
    return (F for batch in X.iter_batches() for F in _stats.as_groups(batch))


def _is_rectangular(X):
    try:
        np.asarray(X, dtype=float)
    except (ValueError, TypeError):
        return False
    return True


class MeanPool(_BaseEncoder):
    """Mean of each channel over all locations: ``n_channels`` features.

    On VGG16 activations each feature is one filter's mean response, the
    encoding that Ling et al. [1]_ found as good as Gram and that makes the
    model interpretable (one feature = one texture).

    Attributes
    ----------
    n_features_in_ : int
        Number of input channels (filters).
    feature_names_in_ : ndarray of str
        Input column names, for 2-D DataFrame input only.
    layer_ : str or None
        Layer of the activations fitted on, None for plain arrays.

    See Also
    --------
    MaxPool, GramEncoder, VLADEncoder

    References
    ----------
    .. [1] J. Ling et al., "Building data-driven models with microstructural
       images: Generalization and interpretability", Materials Discovery 10
       (2017) 19-28.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnntexture import MeanPool
    >>> X = np.arange(12, dtype=float).reshape(2, 3, 2)  # 2 samples, 3 locations, 2 channels
    >>> MeanPool().fit_transform(X)
    array([[2., 3.],
           [8., 9.]])
    """

    _name = "mean"
    _statistics = ("mean",)
    _parameter_constraints = {}

    def _from_statistics(self, stats):
        return stats["mean"]


class MaxPool(_BaseEncoder):
    """Maximum of each channel over all locations: ``n_channels`` features.

    Attributes
    ----------
    n_features_in_ : int
        Number of input channels (filters).
    feature_names_in_ : ndarray of str
        Input column names, for 2-D DataFrame input only.
    layer_ : str or None
        Layer of the activations fitted on, None for plain arrays.

    See Also
    --------
    MeanPool, GramEncoder, VLADEncoder

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnntexture import MaxPool
    >>> X = np.arange(12, dtype=float).reshape(2, 3, 2)
    >>> MaxPool().fit_transform(X)
    array([[ 4.,  5.],
           [10., 11.]])
    """

    _name = "max"
    _statistics = ("max",)
    _parameter_constraints = {}

    def _from_statistics(self, stats):
        return stats["max"]


class GramEncoder(_BaseEncoder):
    """Gram matrix of the channels over locations: ``G = F^T F`` per sample.

    With F the (locations x channels) matrix of one sample, ``G[i, j]`` sums
    the product of channels i and j over the locations: which filters fire
    together, regardless of where (the texture representation of Gatys et
    al., used by Ling et al. [1]_).

    Parameters
    ----------
    triangle : {"upper", "full"}, default="upper"
        ``"full"`` gives all N^2 entries, as counted in the paper's Table 1
        (4096 for 64 filters ... 262144 for 512); ``"upper"`` the N(N+1)/2
        entries on and above the diagonal, which carry the same information
        since G is symmetric, at half the size.
    normalize : bool, default=True
        Divide by the number of locations, so images of different sizes give
        comparable values (the mean of the products rather than their sum).
        False gives the paper's plain ``F^T F``.

    Attributes
    ----------
    n_features_in_ : int
        Number of input channels (filters).
    feature_names_in_ : ndarray of str
        Input column names, for 2-D DataFrame input only.
    layer_ : str or None
        Layer of the activations fitted on, None for plain arrays.

    See Also
    --------
    MeanPool, MaxPool, VLADEncoder

    References
    ----------
    .. [1] J. Ling et al., Materials Discovery 10 (2017) 19-28.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnntexture import GramEncoder
    >>> X = np.array([[[1.0, 2.0], [3.0, 4.0]]])  # 1 sample, 2 locations, 2 channels
    >>> GramEncoder(triangle="full", normalize=False).fit_transform(X)
    array([[10., 14., 14., 20.]])
    >>> GramEncoder().fit(X).get_feature_names_out()
    array(['gram__0_0', 'gram__0_1', 'gram__1_1'], dtype=object)
    """

    _name = "gram"
    _statistics = ("gram", "n_locations")
    _parameter_constraints = {
        "triangle": [StrOptions({"upper", "full"})],
        "normalize": ["boolean"],
    }

    def __init__(self, *, triangle="upper", normalize=True):
        self.triangle = triangle
        self.normalize = normalize

    def _from_statistics(self, stats):
        return _stats.gram_features(
            stats["gram"],
            stats["n_locations"],
            self.n_features_in_,
            normalize=self.normalize,
            triangle=self.triangle,
        )

    def _output_tokens(self, channels):
        n = len(channels)
        if self.triangle == "full":
            pairs = [(i, j) for i in range(n) for j in range(n)]
        else:
            pairs = zip(*np.triu_indices(n))
        return [f"{channels[i]}_{channels[j]}" for i, j in pairs]


class VLADEncoder(_BaseEncoder):
    """VLAD: summed residuals of the descriptors to their nearest visual word.

    ``fit`` learns a dictionary of ``n_words`` visual words by k-means on a
    random sample of at most ``max_descriptors`` local descriptors (one per
    location). From arrays it is drawn uniformly from all samples in one
    pass; from VGG16 activations, each image gives an equal share of a fixed
    random sample of its locations (seeded by its content), so the dictionary
    is the same with or without a cache and whatever the tiling. ``transform``
    assigns every descriptor of a sample to its nearest word and sums the
    residuals (descriptor minus word) per word: ``n_words x n_channels``
    features, word-major. Words no descriptor chose give zeros. Then, as usual
    (Jegou et al. 2010; Arandjelovic & Zisserman 2013), signed power
    normalization and L2 normalization.

    Parameters
    ----------
    n_words : int, default=32
        Size of the dictionary (the paper's 32).
    max_descriptors : int, default=50_000
        Cap on the descriptors k-means sees, which bounds fit's memory and time.
    power : float or None, default=0.5
        Exponent of the signed power normalization ``sign(v) |v| ** power``;
        None skips it.
    l2_normalize : bool, default=True
        Scale each sample's vector to unit L2 norm (an all-zero vector stays).
    random_state : int, RandomState instance or None, default=None
        Seeds the descriptor sample and k-means.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_words, n_channels)
        The visual words.
    n_features_in_ : int
        Number of input channels (filters).
    feature_names_in_ : ndarray of str
        Input column names, for 2-D DataFrame input only.
    layer_ : str or None
        Layer of the activations fitted on, None for plain arrays.

    See Also
    --------
    MeanPool, MaxPool, GramEncoder

    References
    ----------
    .. [1] H. Jegou, M. Douze, C. Schmid and P. Perez, "Aggregating local
       descriptors into a compact image representation", CVPR 2010.
    .. [2] J. Ling et al., Materials Discovery 10 (2017) 19-28.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnntexture import VLADEncoder
    >>> X = np.random.default_rng(0).random((10, 50, 3))
    >>> vlad = VLADEncoder(n_words=4, random_state=0).fit(X)
    >>> vlad.transform(X).shape
    (10, 12)
    """

    _name = "vlad"
    _learns_from_data = True
    _parameter_constraints = {
        "n_words": [Interval(Integral, 1, None, closed="left")],
        "max_descriptors": [Interval(Integral, 1, None, closed="left")],
        "power": [Interval(Real, 0, None, closed="neither"), None],
        "l2_normalize": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        n_words=32,
        max_descriptors=50_000,
        power=0.5,
        l2_normalize=True,
        random_state=None,
    ):
        self.n_words = n_words
        self.max_descriptors = max_descriptors
        self.power = power
        self.l2_normalize = l2_normalize
        self.random_state = random_state

    def _check_sample_size(self):
        if self.max_descriptors < self.n_words:
            raise InputError(
                f"max_descriptors={self.max_descriptors} is below n_words={self.n_words}: "
                "k-means needs at least one descriptor per word"
            )

    def partial_fit(self, X, y=None):
        """Add ``X``'s local descriptors to the dictionary's sample and refit the words.

        The sample is the same uniform reservoir :meth:`fit` draws from arrays,
        so after ``partial_fit`` on each batch of an array data set in turn
        the words are exactly those of ``fit`` on the whole of it (on VGG16
        activations ``fit`` samples each image's fixed locations instead, and
        whole maps are read here). Each call runs k-means on the sample so far
        (up to ``max_descriptors`` rows): feed large batches.

        Parameters
        ----------
        X : array-like of shape (n_samples, ..., n_channels), list of arrays \
                or activation source
            Local descriptors per sample, channels last.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        first = not hasattr(self, "_sample")
        if first:
            self._validate_params()
            self._check_sample_size()
        if is_activation_source(X):
            self._check_source(X, reset=first)
            groups = _source_groups(X)
        else:
            groups = self._groups(X, reset=first)
        if first:
            self._sample = _DescriptorSample(
                self.max_descriptors, check_random_state(self.random_state)
            )
        for F in groups:
            self._sample.add(F.reshape(-1, F.shape[-1]))
        # k-means draws from a copy of the generator, so the reservoir's next
        # draws are the ones fit would make.
        self._fit_words(self._sample.descriptors, copy.deepcopy(self._sample.rng))
        return self

    def _fit_groups(self, groups):
        self._check_sample_size()
        sample = _DescriptorSample(self.max_descriptors, check_random_state(self.random_state))
        for F in groups:
            sample.add(F.reshape(-1, F.shape[-1]))
        self.__dict__.pop("_sample", None)  # a finished fit: no partial_fit to continue
        self._fit_words(sample.descriptors, sample.rng)

    def _fit_image_samples(self, X):
        # The dictionary's sample: an equal share of max_descriptors from each
        # image, taken from the fixed random sample of its locations the source
        # keeps, then a uniform subsample if that is still too many.
        self._check_sample_size()
        per_image = _stats.descriptors_per_image(self.max_descriptors, len(X))
        stats = X.statistics(("descriptors",), head=per_image)
        descriptors = np.concatenate(stats["descriptors"])
        rng = check_random_state(self.random_state)
        if len(descriptors) > self.max_descriptors:
            keep = rng.choice(len(descriptors), self.max_descriptors, replace=False)
            descriptors = descriptors[np.sort(keep)]
        self.__dict__.pop("_sample", None)
        self._fit_words(descriptors, rng)

    def _fit_words(self, descriptors, rng):
        n = 0 if descriptors is None else len(descriptors)
        if n < self.n_words:
            raise InputError(
                f"VLADEncoder needs at least n_words={self.n_words} local descriptors to "
                f"learn its dictionary, got n_samples={n}; lower n_words or give more data."
            )
        kmeans = KMeans(n_clusters=self.n_words, n_init=1, random_state=rng)
        # One thread: k-means sums in a thread-count-dependent order, and the
        # words' exact bits name their codes in a cache (per_image_encoding), so
        # a fold's dictionary must come out the same in every process (a study's
        # cache fill here, its grid search on 1-thread Dask workers).
        with threadpool_limits(limits=1, user_api="openmp"):
            kmeans.fit(descriptors.astype(np.float64))
        self.cluster_centers_ = kmeans.cluster_centers_

    def per_image_encoding(self):
        """This fitted encoder as a sum over one image's locations, and a key naming it.

        Returns
        -------
        key : str
            ``"vlad-residuals-"`` and a digest of the words: equal keys mean
            equal results, so a store may reuse them under it (they are
            reused only by an encoder with the very same dictionary, i.e. the
            same training fold).
        function : callable
            From (L, n_channels) local descriptors to ``{"residuals": sums}``,
            the float64 residual sums per word before normalization: a sum
            over locations, so a large image's is the sum of its tiles'.
        """
        check_is_fitted(self)
        digest = hashlib.sha256(self.cluster_centers_.tobytes()).hexdigest()

        def function(F):
            return {"residuals": self._residual_sums(F)}

        return f"vlad-residuals-{digest}", function

    def _encode_source(self, X):
        if not _offers_statistics(X):
            return self._encode_all(_source_groups(X))
        results = X.map_images(*self.per_image_encoding())
        codes = self._normalized(np.stack([r["residuals"] for r in results]))
        return codes.astype(getattr(X, "dtype", np.float32))

    def _encode(self, F):
        sums = np.stack([self._residual_sums(descriptors) for descriptors in F])
        return self._normalized(sums).astype(F.dtype, copy=False)

    def _residual_sums(self, descriptors):
        """Sum of residuals to the nearest word, per word, of (L, C) descriptors: (k C,)."""
        words = self.cluster_centers_
        k, _ = words.shape
        # In float64: the nearest word is an argmin of ||w||^2 - 2 x.w, whose
        # terms nearly cancel; in float32 its rounding depends on how BLAS
        # blocks the product, so a descriptor near a tie could change word with
        # the number of locations (a tile's against the whole image's).
        descriptors = descriptors.astype(np.float64)
        nearest = _nearest_word(descriptors, words)
        # Summed residuals = sum of descriptors per word - count x word. Both
        # terms are large and nearly cancel: accumulated in float64 too.
        onehot = scipy.sparse.csr_matrix(
            (np.ones(len(nearest)), (nearest, np.arange(len(nearest)))),
            shape=(k, len(nearest)),
        )
        counts = np.bincount(nearest, minlength=k)
        return (onehot @ descriptors - counts[:, None] * words).ravel()

    def _normalized(self, out):
        """Signed power and L2 normalization of (b, k C) float64 residual sums."""
        if self.power is not None:
            out = np.sign(out) * np.abs(out) ** out.dtype.type(self.power)
        if self.l2_normalize:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out = out / np.where(norms > 0, norms, 1)
        return out

    def _output_tokens(self, channels):
        return [f"{w}_{ch}" for w in range(self.n_words) for ch in channels]


def _nearest_word(descriptors, words):
    # argmin ||x - w||^2 = argmin (||w||^2 - 2 x.w): one matrix product.
    scores = (words * words).sum(axis=1) - 2 * descriptors @ words.T
    return scores.argmin(axis=1)


class _DescriptorSample:
    """Uniform random sample of at most ``size`` rows from a stream of batches.

    Each row gets a random key; the rows with the ``size`` smallest keys seen
    so far are kept (a reservoir), so memory is ``size`` rows plus one batch.
    """

    def __init__(self, size, rng):
        self.size = size
        self.rng = rng
        self.descriptors = None
        self.keys = np.empty(0)

    def add(self, rows):
        keys = self.rng.random_sample(len(rows))
        if self.descriptors is None:
            self.descriptors = rows[:0]
        descriptors = np.concatenate([self.descriptors, rows])
        keys = np.concatenate([self.keys, keys])
        if len(keys) > self.size:
            keep = np.argpartition(keys, self.size - 1)[: self.size]
            descriptors, keys = descriptors[keep], keys[keep]
        self.descriptors, self.keys = descriptors, keys


#: The encoders by the name their features and the study's table use.
ENCODERS = {cls._name: cls for cls in (MeanPool, MaxPool, GramEncoder, VLADEncoder)}


@validate_params({"encoder": [HasMethods(["get_params"])]}, prefer_skip_nested_validation=True)
def encoder_name(encoder):
    """The name of an encoder in :data:`ENCODERS`, or of the encoder of a union.

    A union of layers (:class:`MultiLayerUnion`, any estimator with an
    ``encoder`` parameter) is named by the encoder it applies to each layer,
    ``MeanPool`` when that is None.

    Parameters
    ----------
    encoder : estimator
        An encoder, or a union of layers.

    Returns
    -------
    name : str
        ``"mean"``, ``"max"``, ``"gram"`` or ``"vlad"``.

    Raises
    ------
    InputError
        For an estimator that is none of :data:`ENCODERS` (nor a union of one).

    Examples
    --------
    >>> from sklearn_cnntexture import GramEncoder, MultiLayerUnion
    >>> from sklearn_cnntexture.features.encoders import encoder_name
    >>> encoder_name(GramEncoder()), encoder_name(MultiLayerUnion())
    ('gram', 'mean')
    """
    if "encoder" in encoder.get_params(deep=False):
        encoder = encoder.get_params(deep=False)["encoder"] or MeanPool()
    if type(encoder) not in ENCODERS.values():
        raise InputError(
            f"{type(encoder).__name__} is not one of the encoders {list(ENCODERS)}"
        )
    return type(encoder)._name
