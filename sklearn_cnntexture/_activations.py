"""Lazy VGG16 activations: computed batch by batch, on demand, reused from a cache.

``block1_conv2`` of one 512 x 512 image is 64 MB, so the activations of a data
set rarely fit in memory. :class:`Activations` holds the images (file paths or
arrays) and what is needed to run the network on them; encoders iterate over
it batch by batch, so memory is bounded by the batch, not the data set.

It also owns reuse: with a cache folder, the per-image statistics the encoders
need (``_stats.py``) and per-image results such as VLAD codes are read from the
cache, and an image goes through the network only when something of it is
missing; then the statistics of every cached layer are stored at once.
"""

import dataclasses
import hashlib
import os
from collections import defaultdict

import numpy as np

from . import _backbone, _cache, _layers, _stats, io
from .weights import weights_fingerprint

#: Most pixels one forward pass takes. Batching pays off for small images only
#: (at 512 x 512 one image already keeps the CPU's matrix units busy), while
#: memory grows with pixels: block1 holds two 64-filter maps of the whole batch.
#: 2**19 is 8 images of 224 x 224 or 2 of 512 x 512 (about 0.6 GiB above
#: TensorFlow's own 0.7 GiB).
MAX_BATCH_PIXELS = 2**19

#: Share of the machine's available memory one forward pass may plan to use;
#: beyond it an image is refused before the network runs (see check_memory).
MEMORY_FRACTION = 0.8


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
    cache: str | None = None  # folder of the per-image cache (see _cache.py)
    cache_layers: tuple = ()  # also computed and stored on a cache miss

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


def _split_by_pixels(pixels, budget=None):
    """Slices of consecutive images with at most ``budget`` pixels (one image at least)."""
    budget = MAX_BATCH_PIXELS if budget is None else budget
    start, total = 0, 0
    for i, n in enumerate(pixels):
        if i > start and total + n > budget:
            yield slice(start, i)
            start, total = i, 0
        total += n
    if pixels:
        yield slice(start, len(pixels))


def _source_name(item, index):
    return f"'{item}'" if io.is_image_path(item) else f"image at index {index}"


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
            raise ValueError("a pixel_size preprocessing needs one pixel size per image")

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
            raise ValueError(
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
        holds more than :data:`MAX_BATCH_PIXELS` pixels: memory is bounded by
        that, whatever the images' number and size.

        Yields
        ------
        batch : ndarray, list of ndarray, or dict
            For one layer, a float32 array (b, height, width, n_filters), or a
            list of (height_i, width_i, n_filters) arrays when sizes differ.
            For several layers, a dict from layer name to such a batch.
        """
        for outputs in self._iter_layer_batches():
            yield outputs[self.layers[0]] if len(self.layers) == 1 else outputs

    # -- per-image results, reused through the cache ----------------------------

    def statistics(self, names, *, head=None):
        """Per-image statistics of the one layer (see ``_stats.py``).

        Read from the cache when there is one (running the network only for
        images not cached yet), else computed batch by batch.

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
        if self.cached:
            (found,) = self._fetch([request])
        else:
            seeds = None
            if "descriptors" in request.names:
                seeds = iter([_seed(fp) for fp in self._fingerprints()])
            found = []
            for batch in self.iter_batches():
                for F in _stats.as_groups(batch):
                    computed = _stats.compute(
                        F, request.names, seeds=seeds and [next(seeds) for _ in F]
                    )
                    found += [request.pick({name: computed[name][k] for name in request.names})
                              for k in range(len(F))]
        return {name: [result[name] for result in found] for name in request.names}

    def map_images(self, key, function):
        """``function`` of each image's (locations, channels) activations of the one layer.

        With a cache, results are stored under ``key`` and read back later, so
        ``key`` must name the function exactly (VLAD uses its dictionary's
        digest): the same key must always mean the same result.

        Parameters
        ----------
        key : str
            Names the function; part of the cache key.
        function : callable
            From one image's float (L, C) array to a dict of arrays.

        Returns
        -------
        results : list of dict
            One per image, in order.
        """
        layer = self._single_layer("map_images")
        if self.cached:
            (found,) = self._fetch([_Request(layer, key, None, function)])
            return found
        return [function(F[0]) for batch in self.iter_batches()
                for F in _stats.as_groups(batch, per_sample=True)]

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
            raise ValueError("precompute needs a cache: set VGGLayerTransformer(cache=folder)")
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

    def _fetch(self, requests, *, keep=True, description=None):
        """Per-image results of ``requests`` via the cache (see statistics, map_images).

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
        disk = _cache.DiskCache(self._spec.cache)
        forward_fp = self._spec.preprocessing.fingerprint()
        fingerprints = self._fingerprints()
        found = [[None] * len(self) for _ in requests] if keep else None
        missing = []
        for i, fp in enumerate(fingerprints):
            hit = True
            for r, request in enumerate(requests):
                key = _cache.entry_key(fp, forward_fp, request.layer, request.what)
                if not keep:
                    hit = hit and disk.has(key)
                    continue
                result = disk.load(key, request.names)
                found[r][i] = None if result is None else request.pick(result)
                hit = hit and result is not None
            if not hit:
                missing.append(i)
        if missing:
            self._compute_missing(requests, fingerprints, missing, found, disk, description)
        return found

    def _compute_missing(self, requests, fingerprints, missing, found, disk, description):
        spec = self._spec
        forward_fp = spec.preprocessing.fingerprint()
        layers = set(spec.cache_layers) | {request.layer for request in requests}
        layers = tuple(sorted(layers, key=_layers.layer_order))
        subset = self._subset(missing, dataclasses.replace(spec, layers=layers))
        position = iter(missing)
        for outputs in subset._iter_layer_batches(description):
            for j in range(len(outputs[layers[0]])):
                i = next(position)
                fp = fingerprints[i]
                stats = {}
                for layer in layers:
                    F = outputs[layer][j]
                    F = F.reshape(1, -1, F.shape[-1])
                    computed = _stats.compute(F, _stats.STATISTICS, seeds=[_seed(fp)])
                    stats[layer] = {name: values[0] for name, values in computed.items()}
                    # Local descriptors are sparse (ReLU): deflated, a third of the size.
                    disk.store(_cache.entry_key(fp, forward_fp, layer, "stats"), stats[layer],
                               compressed=("descriptors",))
                for r, request in enumerate(requests):
                    if request.what == "stats":
                        result = stats[request.layer]
                    else:
                        F = outputs[request.layer][j]
                        result = request.function(F.reshape(-1, F.shape[-1]))
                        key = _cache.entry_key(fp, forward_fp, request.layer, request.what)
                        disk.store(key, result)
                    if found is not None:
                        found[r][i] = request.pick(result)

    def _iter_layer_batches(self, description=None):
        spec = self._spec
        starts = range(0, len(self), spec.batch_size)
        progress = None
        if spec.verbose:
            from tqdm.auto import tqdm

            progress = tqdm(total=len(self), desc=description or self._description(),
                            unit="image")
        try:
            for start in starts:
                indices = range(start, min(start + spec.batch_size, len(self)))
                rgb = [self._load(i) for i in indices]
                for chunk in _split_by_pixels([im.shape[0] * im.shape[1] for im in rgb]):
                    yield self._run_batch(rgb[chunk], indices[chunk])
                    if progress is not None:
                        progress.update(len(indices[chunk]))
        finally:
            if progress is not None:
                progress.close()

    def _description(self):
        resize = self._spec.preprocessing.resize
        size = "native size" if resize is None else f"{resize[0]} x {resize[1]}"
        return f"VGG16 at {size}"

    def _run_batch(self, rgb, indices):
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
                check_memory(size, len(members), spec.conv_layers, source)
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
        item = self._images[index]
        source = _source_name(item, index)
        prep = self._spec.preprocessing
        image = io.read_image(item) if io.is_image_path(item) else item
        if prep.crop is not None:
            image = io.crop_bottom(image, prep.crop, source=source)
        rgb = io.to_rgb_float(image, float_scale=prep.float_scale, source=source)
        if prep.pixel_size is not None:
            rgb = io.resample_to_pixel_size(rgb, self._pixel_sizes[index], prep.pixel_size)
        if prep.resize is not None:
            rgb = io.resize_image(rgb, prep.resize)
        return rgb

    def _check_size(self, size, source):
        deepest = self._spec.deepest
        if min(_layers.output_size(*size, deepest)) < 1:
            need = 2 ** _layers.n_pools_before(deepest)
            raise ValueError(
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
            raise ValueError(
                f"{what} needs activations of one layer, these hold {list(self.layers)}: "
                "select one with acts['block3_conv3'] or encode all of them with "
                "MultiLayerUnion."
            )
        return self.layers[0]


def _seed(fingerprint):
    """The seed of an image's descriptor sample: fixed by its content."""
    return int(fingerprint[:16], 16)


def forward_memory(size, n_images, layers):
    """Bytes a float32 forward pass of ``n_images`` images of ``size`` needs, about.

    The peak is one convolution's input and output maps of the whole batch
    (TensorFlow frees the rest as it goes) plus the requested layers' outputs,
    which are returned; for VGG16 that is block1's two 64-filter maps.
    """
    height, width = size
    peak = 0
    deepest = max(layers, key=_layers.layer_order)
    for name, (c_in, c_out) in zip(_layers.CONV_LAYERS, _layers.CONV_SHAPES):
        h, w = _layers.output_size(height, width, name)
        peak = max(peak, h * w * (c_in + c_out))
        if name == deepest:
            break
    kept = sum(np.prod(_layers.output_size(height, width, layer)) * _layers.n_channels(layer)
               for layer in layers)
    return int(4 * n_images * (peak + kept))


def available_memory():
    """Bytes of memory available to this process now (Linux: MemAvailable), or None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(size, n_images, layers, source):
    """Refuse, before it runs, a forward pass that cannot fit in memory.

    Raises
    ------
    MemoryError
        Naming the image, its size, the estimate and the remedy.
    """
    need = forward_memory(size, n_images, layers)
    available = available_memory()
    if available is None or need <= MEMORY_FRACTION * available:
        return
    raise MemoryError(
        f"{source} is {size[0]} x {size[1]} pixels: its forward pass through "
        f"{max(layers, key=_layers.layer_order)} needs about {need / 2**30:.1f} GiB, more "
        f"than this machine has available ({available / 2**30:.1f} GiB). Resize it "
        "(resize=..., or --resize on the command line) to a size the texture allows."
    )
