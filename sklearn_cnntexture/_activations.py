"""Lazy VGG16 activations: computed batch by batch, on demand, reused from a cache.

``block1_conv2`` of one 512 x 512 image is 64 MB, so the activations of a data
set rarely fit in memory. :class:`Activations` holds the images (file paths or
arrays) and what is needed to run the network on them; encoders iterate over
it batch by batch, so memory is bounded by the batch, not the data set.

It also owns reuse: with a cache folder, the per-image statistics the encoders
need (``_stats.py``) and per-image results such as VLAD codes are read from the
cache, and an image goes through the network only when something of it is
missing; then the statistics of every cached layer are stored at once.

Images larger than the tile budget go through the network in exact tiles
(``_tiling.py``): per-image results are accumulated tile by tile, so no
feature depends on the tiling and memory is bounded by a tile, whatever the
image's size.
"""

import dataclasses
import hashlib
from collections import defaultdict

import numpy as np

from . import _backbone, _cache, _layers, _memory, _stats, _tiling, io
from .exceptions import InputError
from .weights import weights_fingerprint

#: Most pixels one forward pass takes. Batching pays off for small images only
#: (at 512 x 512 one image already keeps the CPU's matrix units busy), while
#: memory grows with pixels: block1 holds two 64-filter maps of the whole batch.
#: 2**19 is 8 images of 224 x 224 or 2 of 512 x 512 (about 0.6 GiB above
#: TensorFlow's own 0.7 GiB).
MAX_BATCH_PIXELS = 2**19



@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """Everything that decides an image's activations, besides the image and the layer.

    The cache key is made of every field (:meth:`fingerprint`), so a field
    added here is part of the key without anyone listing it; a field at its
    default is left out, so adding one keeps the entries already cached valid.
    """

    weights_key: tuple  # from weights.resolve_weights
    resize: tuple | None = None  # (height, width) or None
    crop: object = None  # None, rows (int), fraction (float) or "auto"
    float_scale: float = 255.0
    precision: str = "float32"  # of the forward pass, see _backbone.PRECISIONS
    # Micrometres per pixel every image is resampled to; None keeps the pixels.
    pixel_size: float | None = None

    def fingerprint(self):
        """A JSON-able dict naming this configuration, the weights by content."""
        values = {"weights": weights_fingerprint(self.weights_key)}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name != "weights_key" and value != field.default:
                values[field.name] = value
        return values


@dataclasses.dataclass(frozen=True)
class ForwardSpec:
    """What to compute and how: the preprocessing, the layers, and run options."""

    preprocessing: Preprocessing
    layers: tuple  # canonical names, as requested
    batch_size: int
    verbose: bool = False
    cache: object = None  # folder of the per-image cache (see _cache.py), or a MemoryStore
    cache_layers: tuple = ()  # also computed and stored on a cache miss
    # Images above this many pixels go through in tiles; None: the device's default.
    tile_pixels: int | None = None

    @property
    def conv_layers(self):
        return tuple(layer for layer in self.layers if layer != _layers.IMAGE_LAYER)

    @property
    def deepest(self):
        return max(self.layers, key=_layers.n_pools_before)


@dataclasses.dataclass(frozen=True)
class _Request:
    """One result per image: the arrays ``names`` of ``what`` for ``layer``.

    ``what="stats"`` is the entry of ``_stats`` statistics stored for every
    cached layer on a miss; any other result (VLAD codes) is made on a miss by
    ``function(F)`` from one image's (L, C) activations. ``head``, if set,
    keeps only that many leading rows of each array.
    """

    layer: str
    what: str
    names: tuple | None  # None: every array of the result
    function: object = None
    head: int | None = None

    def pick(self, result):
        if self.names is None:  # whatever the function made
            return result
        return {name: result[name][: self.head] if self.head else result[name]
                for name in self.names}


def _source_name(item, index):
    return f"'{item}'" if io.is_image_path(item) else f"image at index {index}"


@dataclasses.dataclass
class _Batch:
    """Images that went through the network together: their indices and outputs."""

    indices: list
    outputs: dict  # layer -> array (b, h, w, C), or list of (h, w, C) arrays


@dataclasses.dataclass
class _LargeImage:
    """An image above the tile budget, held in its own dtype and channels.

    ``float_scale`` is the one that takes its values to the 0-255 scale
    (1.0 once resampled to float).
    """

    array: np.ndarray
    float_scale: float
    source: str
    index: int

    @property
    def size(self):
        return self.array.shape[:2]

    def map_sizes(self, layers):
        return {layer: _layers.output_size(*self.size, layer) for layer in layers}

    def rgb(self, rows, cols):
        """One tile's pixels as float RGB on the 0-255 scale."""
        return io.to_rgb_float(self.array[rows, cols], float_scale=self.float_scale,
                               source=self.source)


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
    """

    dtype = np.dtype(np.float32)

    def __init__(self, images, spec, pixel_sizes=None):
        self._images = list(images)
        self._spec = spec
        self.layers = spec.layers
        self._pixel_sizes = None if pixel_sizes is None else list(pixel_sizes)
        if spec.preprocessing.pixel_size is not None and (
                self._pixel_sizes is None or len(self._pixel_sizes) != len(self._images)):
            raise InputError("a pixel_size preprocessing needs one pixel size per image")

    def _subset(self, indices, spec=None):
        """The activations of the images at ``indices``, with their pixel sizes."""
        sizes = None if self._pixel_sizes is None else [self._pixel_sizes[i] for i in indices]
        return Activations([self._images[i] for i in indices], spec or self._spec, sizes)

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
        for group in self._iter_groups():
            if isinstance(group, _LargeImage):
                maps = self._whole_maps(group, {layer: None for layer in self.layers})
                outputs = {layer: m[np.newaxis] for layer, m in maps.items()}
            else:
                outputs = group.outputs
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
        subset = self._subset([index], dataclasses.replace(self._spec, layers=tuple(channels)))
        (group,) = subset._iter_groups()
        if isinstance(group, _LargeImage):
            return subset._whole_maps(group, channels)
        return {layer: group.outputs[layer][0][..., list(picked)]
                for layer, picked in channels.items()}

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
        request = _Request(layer, "stats", tuple(names), head=head)
        (found,) = self._fetch([request])
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
        (found,) = self._fetch([_Request(layer, key, None, function)])
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
        requests = [_Request(layer, "stats", ("mean",)) for layer in self.layers]
        requests += [_Request(_layers.canonical_layer(layer), key, None, function)
                     for layer, key, function in maps]
        self._fetch(requests, keep=False, description=description)

    def _fingerprints(self):
        fingerprints = [_cache.image_fingerprint(item) for item in self._images]
        if self._spec.preprocessing.pixel_size is None:
            return fingerprints
        # An image's own pixel size decides its activations as much as its pixels,
        # and it may come from outside the file (a CSV column, a per-data-set
        # value): it is part of the image's key, so another value is another entry.
        return [hashlib.sha256(f"{fp}|pixel_size={size!r}".encode()).hexdigest()
                for fp, size in zip(fingerprints, self._pixel_sizes)]

    def _store(self):
        cache = self._spec.cache
        if cache is None or isinstance(cache, _cache.MemoryStore):
            return cache
        return _cache.DiskCache(cache)

    def _fetch(self, requests, *, keep=True, description=None):
        """Per-image results of ``requests``, via the cache if there is one.

        Images with any result missing go through the network once, for all
        the requests' layers and ``cache_layers`` together; their statistics
        for every one of those layers are stored on the way. With
        ``keep=False`` nothing is read or returned, only what is missing
        computed and stored.

        Returns
        -------
        list (one per request) of lists (one per image) of dicts of arrays,
        or None with ``keep=False``.
        """
        store = self._store()
        found = [[None] * len(self) for _ in requests] if keep else None
        needs_seeds = any("descriptors" in (r.names or ()) for r in requests)
        fingerprints = self._fingerprints() if store is not None or needs_seeds else None
        if store is None:
            self._compute_missing(requests, fingerprints, range(len(self)), found, None,
                                  description)
            return found
        forward_fp = self._spec.preprocessing.fingerprint()
        missing = []
        for i, fp in enumerate(fingerprints):
            hit = True
            for r, request in enumerate(requests):
                key = _cache.entry_key(fp, forward_fp, request.layer, request.what)
                if not keep:
                    hit = hit and store.has(key)
                    continue
                result = store.load(key, request.names)
                found[r][i] = None if result is None else request.pick(result)
                hit = hit and result is not None
            if not hit:
                missing.append(i)
        store.warn_damaged()
        if missing:
            self._compute_missing(requests, fingerprints, missing, found, store, description)
        return found

    def _compute_missing(self, requests, fingerprints, missing, found, store, description):
        spec = self._spec
        stats_requests = [r for r in requests if r.what == "stats"]
        map_requests = [r for r in requests if r.what != "stats"]
        layers = {r.layer for r in requests}
        if store is None:
            stats_layers = {r.layer for r in stats_requests}
        else:
            layers |= set(spec.cache_layers)
            stats_layers = layers
        layers = tuple(sorted(layers, key=_layers.layer_order))
        if getattr(store, "keeps_everything", False):
            # A folder serves later requests too: every statistic, every row.
            names, head = _stats.STATISTICS, None
        else:
            # In memory, or nowhere: only what was asked (every layer is asked
            # the same by a union), descriptors cut to the share asked.
            names = tuple(dict.fromkeys(n for r in stats_requests for n in r.names))
            heads = {r.head for r in stats_requests}
            head = None if None in heads or not heads else max(heads)
        forward_fp = spec.preprocessing.fingerprint() if store is not None else None
        subset = self._subset(missing, dataclasses.replace(spec, layers=layers))
        for i, (sizes, parts) in zip(missing, subset._iter_images(description), strict=True):
            seed = _seed(fingerprints[i]) if "descriptors" in names else None
            accumulators = {layer: _stats.Accumulator(names, sizes[layer], seed=seed)
                            for layer in stats_layers}
            sums = [None] * len(map_requests)
            for blocks in parts:
                for layer, accumulator in accumulators.items():
                    block, offset = blocks[layer]
                    accumulator.add(block, *offset)
                for m, request in enumerate(map_requests):
                    block = blocks[request.layer][0]
                    if block.size == 0:
                        continue
                    part = request.function(block.reshape(-1, block.shape[-1]))
                    sums[m] = part if sums[m] is None else {
                        name: sums[m][name] + value for name, value in part.items()}
            results = {}
            for layer, accumulator in accumulators.items():
                stats = accumulator.result()
                if head is not None and "descriptors" in stats:
                    stats["descriptors"] = stats["descriptors"][:head]
                results[layer, "stats"] = stats
                if store is not None:
                    # Local descriptors are sparse (ReLU): deflated, a third of the size.
                    store.store(_cache.entry_key(fingerprints[i], forward_fp, layer, "stats"),
                                stats, compressed=("descriptors",))
            for request, result in zip(map_requests, sums, strict=True):
                results[request.layer, request.what] = result
                if store is not None:
                    key = _cache.entry_key(fingerprints[i], forward_fp, request.layer,
                                           request.what)
                    store.store(key, result)
            if found is not None:
                for r, request in enumerate(requests):
                    found[r][i] = request.pick(results[request.layer, request.what])

    # -- running the network ------------------------------------------------------

    def _iter_images(self, description=None):
        """Each image's map sizes and parts, in order: ``(sizes, parts)``.

        ``sizes`` maps each layer to the (height, width) of the image's whole
        map; ``parts`` iterates over dicts from layer to ``(block, (top,
        left))``, blocks of the map that cover it once: the whole map for an
        image that shared a forward pass, tiles' cores for a large image
        (computed as ``parts`` is consumed).
        """
        for group in self._iter_groups(description):
            if isinstance(group, _LargeImage):
                yield group.map_sizes(self.layers), self._tile_blocks(group)
                continue
            for j in range(len(group.indices)):
                blocks = {layer: (group.outputs[layer][j], (0, 0)) for layer in self.layers}
                yield {layer: b.shape[:2] for layer, (b, _) in blocks.items()}, [blocks]

    def _iter_groups(self, description=None):
        """The images in order, as batches of small images run together, or large images.

        Yields a :class:`_Batch` (the outputs of one forward pass) or a
        :class:`_LargeImage` (to be run tile by tile).
        """
        spec = self._spec
        progress = None
        if spec.verbose:
            from tqdm.auto import tqdm

            progress = tqdm(total=len(self), desc=description or self._description(),
                            unit="image")
        pending, pixels = [], 0

        def run_pending():
            batch = _Batch([i for i, _ in pending],
                           self._run_batch([rgb for _, rgb in pending],
                                           [i for i, _ in pending]))
            if progress is not None:
                progress.update(len(pending))
            return batch

        try:
            for index in range(len(self)):
                image = self._load(index)
                if isinstance(image, _LargeImage):
                    if pending:
                        yield run_pending()
                        pending, pixels = [], 0
                    yield image
                    if progress is not None:
                        progress.update(1)
                    continue
                size = image.shape[0] * image.shape[1]
                if pending and (len(pending) == spec.batch_size
                                or pixels + size > MAX_BATCH_PIXELS):
                    yield run_pending()
                    pending, pixels = [], 0
                pending.append((index, image))
                pixels += size
            if pending:
                yield run_pending()
        finally:
            if progress is not None:
                progress.close()

    def _tile_blocks(self, image):
        """The blocks of a large image's maps, one dict per tile, computed tile by tile."""
        deepest = max(self.layers, key=_layers.layer_order)
        tiles = _tiling.plan(*image.size, deepest, self._tile_pixels())
        if self._spec.verbose and len(tiles) > 1:  # a mosaic takes minutes: show its tiles
            from tqdm.auto import tqdm

            tiles = tqdm(tiles, desc=f"tiles of {image.source}", unit="tile", leave=False)
        for tile in tiles:
            outputs = self._run_batch([image.rgb(tile.rows, tile.cols)], [image.index],
                                      tiled=True)
            blocks = {}
            for layer in self.layers:
                (rows, cols), offset = tile.block(layer)
                blocks[layer] = (outputs[layer][0][rows, cols], offset)
            yield blocks

    def _whole_maps(self, image, channels):
        """A large image's maps of ``channels`` (None: all) of each layer, from its tiles."""
        sizes = image.map_sizes(channels)
        need = sum(4 * h * w * (_layers.n_channels(layer) if channels[layer] is None
                                else len(channels[layer]))
                   for layer, (h, w) in sizes.items())
        _memory.check_maps(need, image.size, list(channels), image.source)
        maps = {}
        for layer, (h, w) in sizes.items():
            n = _layers.n_channels(layer) if channels[layer] is None else len(channels[layer])
            maps[layer] = np.empty((h, w, n), dtype=np.float32)
        for blocks in self._tile_blocks(image):
            for layer, (block, (top, left)) in blocks.items():
                picked = block if channels[layer] is None else block[..., list(channels[layer])]
                maps[layer][top:top + block.shape[0], left:left + block.shape[1]] = picked
        return maps

    def _tile_pixels(self):
        if self._spec.tile_pixels is not None:
            return self._spec.tile_pixels
        return _backbone.default_tile_pixels()

    def _description(self):
        resize = self._spec.preprocessing.resize
        size = "native size" if resize is None else f"{resize[0]} x {resize[1]}"
        return f"VGG16 at {size}"

    def _run_batch(self, rgb, indices, *, tiled=False):
        """Activations of a batch of loaded images, in the batch's order."""
        spec = self._spec
        # Only images of one size can share a forward pass.
        by_size = defaultdict(list)
        for j, image in enumerate(rgb):
            by_size[image.shape[:2]].append(j)
        outputs = {layer: [None] * len(rgb) for layer in spec.layers}
        if spec.conv_layers:
            prep = spec.preprocessing
            forward = _backbone.forward_function(prep.weights_key, spec.conv_layers,
                                                 prep.precision)
            for size, members in by_size.items():
                source = _source_name(self._images[indices[members[0]]], indices[members[0]])
                self._check_size(size, source)
                _memory.check_forward(size, len(members), spec.conv_layers, source,
                                      tiled=tiled)
                _backbone.count_images(len(members))
                batch = _backbone.caffe_preprocess(np.stack([rgb[j] for j in members]))
                for layer, out in zip(spec.conv_layers, forward(batch)):
                    if len(by_size) == 1:  # the common case: keep the array, no copy
                        outputs[layer] = out
                        continue
                    for k, j in enumerate(members):
                        outputs[layer][j] = out[k]
        if _layers.IMAGE_LAYER in spec.layers:
            # Gray intensity: the image itself for grayscale input (three equal
            # channels), the channel mean for colour.
            outputs[_layers.IMAGE_LAYER] = [im.mean(axis=-1, keepdims=True) for im in rgb]
        if len(by_size) == 1:
            return {
                layer: maps if isinstance(maps, np.ndarray) else np.stack(maps)
                for layer, maps in outputs.items()
            }
        return outputs

    def _load(self, index):
        """The image as the network sees it: float RGB, or a large image to tile.

        A large image is kept in its file's dtype and channels (or, when
        resampled, as float gray or RGB) and made float RGB a tile at a time.
        """
        item = self._images[index]
        source = _source_name(item, index)
        prep = self._spec.preprocessing
        # Mapped where the format allows: a large TIFF is read a tile at a time.
        image = io.read_image_lazily(item) if io.is_image_path(item) else np.asarray(item)
        if prep.crop is not None:
            image = io.crop_bottom(image, prep.crop, source=source)
        float_scale = prep.float_scale
        if prep.pixel_size is not None or prep.resize is not None:
            image = io.to_float_intensities(image, float_scale=float_scale, source=source)
            float_scale = 1.0  # on the 0-255 scale now
            if prep.pixel_size is not None:
                image = io.resample_to_pixel_size(image, self._pixel_sizes[index],
                                                  prep.pixel_size, source=source)
            if prep.resize is not None:
                image = io.resize_image(image, prep.resize)
        if image.shape[0] * image.shape[1] > self._tile_pixels():
            return _LargeImage(image, float_scale, source, index)
        return io.to_rgb_float(image, float_scale=float_scale, source=source)

    def _check_size(self, size, source):
        deepest = self._spec.deepest
        if min(_layers.output_size(*size, deepest)) < 1:
            need = 2 ** _layers.n_pools_before(deepest)
            raise InputError(
                f"{source} is {size[0]} x {size[1]} "
                f"pixels; {deepest} needs at least {need} x {need} (VGG16 halves the "
                f"size {_layers.n_pools_before(deepest)} times before it). Use a "
                "shallower layer or set resize"
                + (" (after resampling to the pixel size)."
                   if self._spec.preprocessing.pixel_size is not None else ".")
            )

    def _known_size(self, index):
        if self._spec.preprocessing.resize is not None:
            return tuple(self._spec.preprocessing.resize)
        item = self._images[index]
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


def _seed(fingerprint):
    """The seed of an image's descriptor sample: fixed by its content."""
    return int(fingerprint[:16], 16)
