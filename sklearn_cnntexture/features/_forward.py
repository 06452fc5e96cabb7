"""Prepared images through VGG16: small images in batches, large ones in exact tiles.

How images go through the network is a policy of its own, apart from what
is made of the maps (``_results``) and from the array protocol
(``_activations``): small images share a forward pass up to a budget of
pixels, since memory grows with pixels; an image above the tile budget goes
through alone, in the exact tiles of ``_tiling.py``, so memory is bounded by
a tile whatever the image's size. Every image is prepared by the caller's
function (``_preprocess.prepare``), one at a time, as the passes need it.
"""

import dataclasses
from collections import defaultdict

import numpy as np

from ..exceptions import InputError
from . import _backbone, _layers, _memory, _tiling


@dataclasses.dataclass(frozen=True)
class ForwardSpec:
    """What to compute and how: the preprocessing, the layers, and run options."""

    preprocessing: object  # _preprocess.Preprocessing
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


@dataclasses.dataclass
class Batch:
    """Images that went through the network together: their positions and outputs."""

    positions: list
    outputs: dict  # layer -> array (b, h, w, C), or list of (h, w, C) arrays


@dataclasses.dataclass
class LargeImage:
    """An image above the tile budget, to be run tile by tile."""

    position: int
    image: object  # _preprocess.PreparedImage

    def map_sizes(self, layers):
        return {layer: _layers.output_size(*self.image.size, layer) for layer in layers}


class Forward:
    """The forward passes over some images, in order.

    Parameters
    ----------
    spec : ForwardSpec
        Its ``layers`` are computed.
    prepare : callable
        From an image's index to its ``PreparedImage``.
    indices : sequence of int
        The images, in order.
    max_batch_pixels : int
        Most pixels of one forward pass of small images.
    tile_pixels : int
        Images above this many pixels go through in tiles.
    """

    def __init__(self, spec, prepare, indices, *, max_batch_pixels, tile_pixels):
        self.spec = spec
        self._prepare = prepare
        self._indices = list(indices)
        self._max_batch_pixels = max_batch_pixels
        self._tile_pixels = tile_pixels

    def groups(self, description=None):
        """The images in order: :class:`Batch` es of small ones, :class:`LargeImage` s alone."""
        spec = self.spec
        progress = None
        if spec.verbose:
            from tqdm.auto import tqdm

            progress = tqdm(total=len(self._indices), desc=description or self._description(),
                            unit="image")
        pending, pixels = [], 0

        def run_pending():
            batch = Batch([p for p, _ in pending],
                          self._run([image for _, image in pending]))
            if progress is not None:
                progress.update(len(pending))
            return batch

        try:
            for position, index in enumerate(self._indices):
                image = self._prepare(index)
                size = image.size[0] * image.size[1]
                if size > self._tile_pixels:
                    if pending:
                        yield run_pending()
                        pending, pixels = [], 0
                    yield LargeImage(position, image)
                    if progress is not None:
                        progress.update(1)
                    continue
                if pending and (len(pending) == spec.batch_size
                                or pixels + size > self._max_batch_pixels):
                    yield run_pending()
                    pending, pixels = [], 0
                pending.append((position, image))
                pixels += size
            if pending:
                yield run_pending()
        finally:
            if progress is not None:
                progress.close()

    def batches(self):
        """Each group's outputs, a large image's whole maps put together from its tiles."""
        for group in self.groups():
            if isinstance(group, LargeImage):
                maps = self.whole_maps(group, {layer: None for layer in self.spec.layers})
                yield {layer: m[np.newaxis] for layer, m in maps.items()}
            else:
                yield group.outputs

    def images(self, description=None):
        """Each image's map sizes and parts, in order: ``(sizes, parts)``.

        ``sizes`` maps each layer to the (height, width) of the image's whole
        map; ``parts`` iterates over dicts from layer to ``(block, (top,
        left))``, blocks of the map that cover it once: the whole map for an
        image that shared a forward pass, tiles' cores for a large image
        (computed as ``parts`` is consumed).
        """
        layers = self.spec.layers
        for group in self.groups(description):
            if isinstance(group, LargeImage):
                yield group.map_sizes(layers), self.tile_blocks(group)
                continue
            for j in range(len(group.positions)):
                blocks = {layer: (group.outputs[layer][j], (0, 0)) for layer in layers}
                yield {layer: b.shape[:2] for layer, (b, _) in blocks.items()}, [blocks]

    def channel_maps(self, channels):
        """The first image's maps of ``channels`` (layer -> filters), from tiles if large."""
        group = next(self.groups())
        if isinstance(group, LargeImage):
            return self.whole_maps(group, channels)
        return {layer: group.outputs[layer][0][..., list(picked)]
                for layer, picked in channels.items()}

    def tile_blocks(self, large):
        """The blocks of a large image's maps, one dict per tile, computed tile by tile."""
        layers = self.spec.layers
        image = large.image
        deepest = max(layers, key=_layers.layer_order)
        tiles = _tiling.plan(*image.size, deepest, self._tile_pixels)
        if self.spec.verbose and len(tiles) > 1:  # a mosaic takes minutes: show its tiles
            from tqdm.auto import tqdm

            tiles = tqdm(tiles, desc=f"tiles of {image.source}", unit="tile", leave=False)
        for tile in tiles:
            outputs = self._run([image], rows=tile.rows, cols=tile.cols)
            blocks = {}
            for layer in layers:
                (rows, cols), offset = tile.block(layer)
                blocks[layer] = (outputs[layer][0][rows, cols], offset)
            yield blocks

    def whole_maps(self, large, channels):
        """A large image's maps of ``channels`` (None: all) of each layer, from its tiles."""
        sizes = large.map_sizes(channels)
        need = sum(4 * h * w * (_layers.n_channels(layer) if channels[layer] is None
                                else len(channels[layer]))
                   for layer, (h, w) in sizes.items())
        _memory.check_maps(need, large.image.size, list(channels), large.image.source)
        maps = {}
        for layer, (h, w) in sizes.items():
            n = _layers.n_channels(layer) if channels[layer] is None else len(channels[layer])
            maps[layer] = np.empty((h, w, n), dtype=np.float32)
        for blocks in self.tile_blocks(large):
            for layer, (block, (top, left)) in blocks.items():
                picked = block if channels[layer] is None else block[..., list(channels[layer])]
                maps[layer][top:top + block.shape[0], left:left + block.shape[1]] = picked
        return maps

    def _description(self):
        resize = self.spec.preprocessing.resize
        size = "native size" if resize is None else f"{resize[0]} x {resize[1]}"
        return f"VGG16 at {size}"

    def _run(self, images, *, rows=None, cols=None):
        """Activations of prepared images (or of one tile of one), in their order."""
        spec = self.spec
        tiled = rows is not None
        rgb = [image.rgb(rows, cols) if tiled else image.rgb() for image in images]
        # Only images of one size can share a forward pass.
        by_size = defaultdict(list)
        for j, pixels in enumerate(rgb):
            by_size[pixels.shape[:2]].append(j)
        outputs = {layer: [None] * len(rgb) for layer in spec.layers}
        if spec.conv_layers:
            prep = spec.preprocessing
            forward = _backbone.forward_function(prep.weights_key, spec.conv_layers,
                                                 prep.precision)
            for size, members in by_size.items():
                source = images[members[0]].source
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

    def _check_size(self, size, source):
        deepest = self.spec.deepest
        if min(_layers.output_size(*size, deepest)) < 1:
            need = 2 ** _layers.n_pools_before(deepest)
            raise InputError(
                f"{source} is {size[0]} x {size[1]} "
                f"pixels; {deepest} needs at least {need} x {need} (VGG16 halves the "
                f"size {_layers.n_pools_before(deepest)} times before it). Use a "
                "shallower layer or set resize"
                + (" (after resampling to the pixel size)."
                   if self.spec.preprocessing.pixel_size is not None else ".")
            )
