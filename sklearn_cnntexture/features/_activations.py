"""Lazy VGG16 activations: a thin view that computes them batch by batch, on demand.

``block1_conv2`` of one 512 x 512 image is 64 MB, so the activations of a data
set rarely fit in memory. :class:`Activations` holds the images (file paths or
arrays) and what is needed to run the network on them; encoders iterate over
it batch by batch, so memory is bounded by the batch, not the data set.

The work is done by one module per job, which this view only wires together:

- ``_preprocess``: an image as the network sees it (crop, intensities,
  pixel size, resize), the same function for the features and the heat maps;
- ``_forward``: the forward passes, small images in batches, large ones in
  exact tiles (``_tiling.py``), so memory is bounded by a tile;
- ``_results``: per-image statistics (``_stats.py``) and results such as
  VLAD codes, read from the cache or computed once for every cached layer.
"""

import dataclasses

import numpy as np

from .. import io
from ..exceptions import InputError
from . import _backbone, _cache, _layers, _preprocess
from ._forward import Forward, ForwardSpec
from ._preprocess import PreparedImage, Preprocessing
from ._results import Request, Results

# ForwardSpec and Preprocessing live in _forward and _preprocess; they stay
# importable from here, where callers have always found them.
__all__ = ["MAX_BATCH_PIXELS", "Activations", "ForwardSpec", "Preprocessing"]

#: Most pixels one forward pass takes. Batching pays off for small images only
#: (at 512 x 512 one image already keeps the CPU's matrix units busy), while
#: memory grows with pixels: block1 holds two 64-filter maps of the whole batch.
#: 2**19 is 8 images of 224 x 224 or 2 of 512 x 512 (about 0.6 GiB above
#: TensorFlow's own 0.7 GiB).
MAX_BATCH_PIXELS = 2**19


class Activations:
    """VGG16 activations of a sequence of images, computed lazily.

    Returned by :meth:`VGGLayerTransformer.transform`; you rarely build one
    yourself. For one layer it behaves like an array of shape
    ``(n_images, height, width, n_filters)``: ``np.asarray`` computes it all
    (for small inputs), ``acts[i]`` one image's map, and :meth:`iter_batches`
    yields it ``batch_size`` images at a time, which is what the encoders use.
    For several layers, ``acts["block3_conv3"]`` selects one layer and
    :meth:`iter_batches` yields a dict per batch (one forward pass for all).

    Images of different sizes give maps of different sizes: then a batch is a
    list of ``(height_i, width_i, n_filters)`` arrays and ``np.asarray`` raises.

    An image above the transformer's ``tile_pixels`` goes through the network
    in exact tiles (``_tiling.py``): per-image results (:meth:`statistics`,
    :meth:`map_images`) add up over the tiles and equal the untiled ones up to
    float rounding, with memory bounded by a tile; whole maps are put
    together from the tiles when asked for.

    With a ``pixel_size`` in the preprocessing, ``pixel_sizes`` holds each
    image's own micrometres per pixel, and every image is resampled from it
    to that common scale (after ``crop``, before ``resize``).

    Attributes
    ----------
    layers : tuple of str
        Keras names of the layers, ``"image"`` for the raw intensities.
    cached : bool
        True when the transformer has a ``cache``: then :class:`MeanPool`,
        :class:`MaxPool`, :class:`GramEncoder` and :class:`VLADEncoder` take
        per-image results from it, running the network only for images not
        seen before.
    dtype : numpy.dtype
        Always float32, the network's precision.
    records : pandas.DataFrame or None
        The rows of the table the images came in (``X`` as a DataFrame: see
        :mod:`sklearn_cnntexture.io.records`), in the same order; None for a
        list of images. What :class:`~sklearn_cnntexture.features.WithColumns`
        takes its columns from.
    """

    dtype = np.dtype(np.float32)

    def __init__(self, images, spec, pixel_sizes=None, records=None):
        self._images = list(images)
        self._spec = spec
        self.layers = spec.layers
        self.records = records
        if records is not None and len(records) != len(self._images):
            raise InputError(f"{len(records)} records for {len(self._images)} images")
        self._pixel_sizes = None if pixel_sizes is None else list(pixel_sizes)
        if spec.preprocessing.pixel_size is not None and (
                self._pixel_sizes is None or len(self._pixel_sizes) != len(self._images)):
            raise InputError("a pixel_size preprocessing needs one pixel size per image")

    def _subset(self, indices, spec=None):
        """The activations of the images at ``indices``, with their pixel sizes."""
        indices = list(indices)
        sizes = None if self._pixel_sizes is None else [self._pixel_sizes[i] for i in indices]
        records = None if self.records is None else self.records.iloc[indices]
        return Activations([self._images[i] for i in indices], spec or self._spec, sizes,
                           records)

    @property
    def cached(self):
        """Whether encoders read per-image results from the transformer's cache."""
        return self._spec.cache is not None

    # -- array-like protocol -------------------------------------------------

    def __len__(self):
        return len(self._images)

    @property
    def shape(self):
        """``(n_images, height, width, n_filters)``, ``None`` for sizes not known
        without reading the files or that differ between images."""
        layer = self._single_layer("shape")
        sizes = {self._known_size(i) for i in range(len(self))}
        if len(sizes) == 1 and None not in sizes:
            height, width = _layers.output_size(*sizes.pop(), layer)
        else:
            height = width = None
        return (len(self), height, width, _layers.n_channels(layer))

    @property
    def ndim(self):
        return 4

    def __array__(self, dtype=None, copy=None):
        self._single_layer("np.asarray")
        batches = list(self.iter_batches())
        if any(isinstance(b, list) for b in batches) or len(
            {b.shape[1:] for b in batches}
        ) > 1:
            raise InputError(
                "The images have different sizes, so their activation maps do too and "
                "cannot form one array: encode them (MeanPool, GramEncoder, ...), "
                "iterate with iter_batches(), or set resize."
            )
        out = np.concatenate(batches) if batches else np.empty((0, 0, 0, 0), np.float32)
        return out if dtype is None else out.astype(dtype, copy=False)

    def __getitem__(self, key):
        if isinstance(key, str):
            layer = _layers.canonical_layer(key)
            if layer not in self.layers:
                raise KeyError(f"{key!r} ({layer}) is not among the computed layers {self.layers}")
            return self._subset(range(len(self)), dataclasses.replace(self._spec, layers=(layer,)))
        if isinstance(key, (int, np.integer)):
            self._single_layer("indexing one image")
            (batch,) = self._subset([key]).iter_batches()
            return batch[0]
        picked = np.arange(len(self))[key]
        return self._subset(np.atleast_1d(picked))

    def __iter__(self):
        for batch in self.iter_batches():
            yield from batch

    def __repr__(self):
        return (
            f"Activations(n_images={len(self)}, layers={list(self.layers)}, "
            f"batch_size={self._spec.batch_size})"
        )

    # -- computing ------------------------------------------------------------

    def iter_batches(self):
        """Compute the activations ``batch_size`` images at a time.

        A batch of large images is split further so that no forward pass
        holds more than :data:`MAX_BATCH_PIXELS` pixels. An image above the
        tile budget goes through the network in exact tiles and comes as a
        batch of its own, its maps put together from the tiles': such maps
        can be larger than memory (encoders never ask for them, see
        :meth:`statistics`), which is refused before the network runs.

        Yields
        ------
        batch : ndarray, list of ndarray, or dict
            For one layer, a float32 array (b, height, width, n_filters), or a
            list of (height_i, width_i, n_filters) arrays when sizes differ.
            For several layers, a dict from layer name to such a batch.
        """
        for outputs in self._forward().batches():
            yield outputs[self.layers[0]] if len(self.layers) == 1 else outputs

    def image_maps(self, index, channels):
        """Some channels of one image's maps, put together from tiles for a large image.

        Heat maps need one filter's map at full resolution; for a large
        image the whole map of all filters may not fit in memory, its
        channels do.

        Parameters
        ----------
        index : int
            The image.
        channels : dict of str to list of int
            The filters wanted of each layer (among ``layers``).

        Returns
        -------
        maps : dict of str to ndarray of shape (height, width, len(filters))
        """
        unknown = set(channels) - set(self.layers)
        if unknown:
            raise KeyError(f"{sorted(unknown)} not among the computed layers {self.layers}")
        return self._forward([index], tuple(channels)).channel_maps(channels)

    def in_memory(self):
        """These activations with a store in memory, shared by their layers and images.

        The first per-image request (:meth:`statistics`, :meth:`map_images`)
        runs the network once for every layer and keeps the same result of
        each layer; the other layers' requests then read it.
        :class:`MultiLayerUnion` encodes all its layers from one pass this way.
        """
        spec = dataclasses.replace(self._spec, cache=_cache.MemoryStore(),
                                   cache_layers=self.layers)
        return self._subset(range(len(self)), spec)

    # -- per-image results, reused through the cache ----------------------------

    def statistics(self, names, *, head=None):
        """Per-image statistics of the one layer (see ``_stats.py``).

        Read from the cache when there is one (running the network only for
        images not cached yet), else computed, tile by tile for large images.

        Parameters
        ----------
        names : iterable of str
            Among ``"mean"``, ``"max"``, ``"gram"``, ``"n_locations"``,
            ``"descriptors"``.
        head : int or None
            Keep only that many leading rows of each image's arrays (a share
            of the ``"descriptors"``).

        Returns
        -------
        stats : dict of str to list of ndarray
            One array per image for each name.
        """
        layer = self._single_layer("statistics")
        request = Request(layer, "stats", tuple(names), head=head)
        (found,) = self._results().fetch([request])
        return {name: [result[name] for result in found] for name in request.names}

    def map_images(self, key, function):
        """``function`` of each image's (locations, channels) activations of the one layer.

        ``function`` must be a sum over locations: each array it returns for
        a set of locations is the sum of those it returns for any split of
        them. A large image is then computed tile by tile, the tiles' results
        added up. With a cache, results are stored under ``key`` and read back
        later, so ``key`` must name the function exactly (VLAD uses its
        dictionary's digest): the same key must always mean the same result.

        Parameters
        ----------
        key : str
            Names the function; part of the cache key.
        function : callable
            From a float (L, C) array of locations to a dict of arrays.

        Returns
        -------
        results : list of dict
            One per image, in order.
        """
        layer = self._single_layer("map_images")
        (found,) = self._results().fetch([Request(layer, key, None, function)])
        return found

    def precompute(self, maps=(), *, description=None):
        """Fill the cache for these images in one pass over those not cached yet.

        Stores the statistics of every layer (``layers`` and the transformer's
        ``cache_layers``) and, for each ``(layer, key, function)`` of
        ``maps``, that per-image result (as :meth:`map_images` would). Nothing
        is returned or kept in memory, so any number of images can be cached.

        Parameters
        ----------
        maps : iterable of (str, str, callable)
            Per-image results to store as well.
        description : str or None
            Label of the progress bar (shown when the transformer is verbose).
        """
        if not self.cached:
            raise InputError("precompute needs a cache: set VGGLayerTransformer(cache=folder)")
        requests = [Request(layer, "stats", ("mean",)) for layer in self.layers]
        requests += [Request(_layers.canonical_layer(layer), key, None, function)
                     for layer, key, function in maps]
        self._results().fetch(requests, keep=False, description=description)

    # -- the jobs' modules, wired ---------------------------------------------------

    def _prepare(self, index):
        """Image ``index`` as the network sees it (see ``_preprocess``)."""
        item = self._images[index]
        if isinstance(item, PreparedImage):  # a heat map's, prepared by its caller
            return item
        size = None if self._pixel_sizes is None else self._pixel_sizes[index]
        return _preprocess.prepare(item, self._spec.preprocessing, pixel_size=size,
                                   source=_preprocess.source_name(item, index))

    def _forward(self, indices=None, layers=None):
        """The forward passes over the images at ``indices`` (all), for ``layers``."""
        spec = self._spec if layers is None else dataclasses.replace(self._spec, layers=layers)
        tile_pixels = spec.tile_pixels
        if tile_pixels is None:  # the device's: asked only once images go through
            tile_pixels = _backbone.default_tile_pixels()
        return Forward(spec, self._prepare, range(len(self)) if indices is None else indices,
                       max_batch_pixels=MAX_BATCH_PIXELS, tile_pixels=tile_pixels)

    def _results(self):
        return Results(self._images, self._pixel_sizes, self._spec, self._forward)

    def _known_size(self, index):
        item = self._images[index]
        if isinstance(item, PreparedImage):
            return item.size
        if self._spec.preprocessing.resize is not None:
            return tuple(self._spec.preprocessing.resize)
        prep = self._spec.preprocessing
        if io.is_image_path(item) or prep.crop is not None or prep.pixel_size is not None:
            return None  # known once read (cropped, resampled)
        return tuple(np.shape(item)[:2])

    def _single_layer(self, what):
        if len(self.layers) != 1:
            raise InputError(
                f"{what} needs activations of one layer, these hold {list(self.layers)}: "
                "select one with acts['block3_conv3'] or encode all of them with "
                "MultiLayerUnion."
            )
        return self.layers[0]
