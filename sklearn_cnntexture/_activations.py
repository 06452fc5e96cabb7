"""Lazy VGG16 activations: computed batch by batch, on demand.

``block1_conv2`` of one 512 x 512 image is 64 MB, so the activations of a data
set rarely fit in memory. :class:`Activations` holds the images (file paths or
arrays) and what is needed to run the network on them; encoders iterate over
it batch by batch, so memory is bounded by the batch, not the data set.
"""

import dataclasses
from collections import defaultdict

import numpy as np

from . import _backbone, _layers, io

#: Most pixels one forward pass takes. Batching pays off for small images only
#: (at 512 x 512 one image already keeps the CPU's matrix units busy), while
#: memory grows with pixels: block1 holds two 64-filter maps of the whole batch.
#: 2**19 is 8 images of 224 x 224 or 2 of 512 x 512 (about 0.6 GiB above
#: TensorFlow's own 0.7 GiB).
MAX_BATCH_PIXELS = 2**19


@dataclasses.dataclass(frozen=True)
class ForwardSpec:
    """Everything that decides the activations of an image, in plain values."""

    weights_key: tuple
    layers: tuple  # canonical names, as requested
    resize: tuple | None  # (height, width) or None
    float_scale: float
    batch_size: int
    verbose: bool = False
    crop: object = None  # None, rows (int), fraction (float) or "auto"
    cache: str | None = None  # folder of the per-image cache (see _cache.py)
    cache_layers: tuple = ()  # also computed and stored on a cache miss

    @property
    def conv_layers(self):
        return tuple(layer for layer in self.layers if layer != _layers.IMAGE_LAYER)

    @property
    def deepest(self):
        return max(self.layers, key=_layers.n_pools_before)


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

    def __init__(self, images, spec):
        self._images = list(images)
        self._spec = spec
        self.layers = spec.layers

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
            return Activations(self._images, dataclasses.replace(self._spec, layers=(layer,)))
        if isinstance(key, (int, np.integer)):
            self._single_layer("indexing one image")
            (batch,) = Activations([self._images[key]], self._spec).iter_batches()
            return batch[0]
        picked = np.arange(len(self))[key]
        return Activations([self._images[i] for i in np.atleast_1d(picked)], self._spec)

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

    def _iter_layer_batches(self):
        spec = self._spec
        starts = range(0, len(self), spec.batch_size)
        if spec.verbose:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="VGG16", unit="batch")
        for start in starts:
            indices = range(start, min(start + spec.batch_size, len(self)))
            rgb = [self._load(i) for i in indices]
            for chunk in _split_by_pixels([im.shape[0] * im.shape[1] for im in rgb]):
                yield self._run_batch(rgb[chunk], indices[chunk])

    def _run_batch(self, rgb, indices):
        """Activations of a batch of loaded images, in the batch's order."""
        spec = self._spec
        # Only images of one size can share a forward pass.
        by_size = defaultdict(list)
        for j, image in enumerate(rgb):
            by_size[image.shape[:2]].append(j)
        outputs = {layer: [None] * len(rgb) for layer in spec.layers}
        if spec.conv_layers:
            forward = _backbone.forward_function(spec.weights_key, spec.conv_layers)
            for size, members in by_size.items():
                self._check_size(size, indices[members[0]])
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
        image = io.read_image(item) if io.is_image_path(item) else item
        if self._spec.crop is not None:
            image = io.crop_bottom(image, self._spec.crop, source=source)
        rgb = io.to_rgb_float(image, float_scale=self._spec.float_scale, source=source)
        if self._spec.resize is not None:
            rgb = io.resize_image(rgb, self._spec.resize)
        return rgb

    def _check_size(self, size, index):
        deepest = self._spec.deepest
        if min(_layers.output_size(*size, deepest)) < 1:
            need = 2 ** _layers.n_pools_before(deepest)
            raise ValueError(
                f"{_source_name(self._images[index], index)} is {size[0]} x {size[1]} "
                f"pixels; {deepest} needs at least {need} x {need} (VGG16 halves the "
                f"size {_layers.n_pools_before(deepest)} times before it). Use a "
                "shallower layer or set resize."
            )

    def _known_size(self, index):
        if self._spec.resize is not None:
            return tuple(self._spec.resize)
        item = self._images[index]
        if io.is_image_path(item) or self._spec.crop is not None:
            return None  # known once read (and cropped)
        return tuple(np.shape(item)[:2])

    def _single_layer(self, what):
        if len(self.layers) != 1:
            raise ValueError(
                f"{what} needs activations of one layer, these hold {list(self.layers)}: "
                "select one with acts['block3_conv3'] or encode all of them with "
                "MultiLayerUnion."
            )
        return self.layers[0]
