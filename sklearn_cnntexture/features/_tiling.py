"""Exact tiling: a large image's activations computed tile by tile.

A 15000 x 15000 micrograph holds 57 GB of ``block1_conv2`` activations, so it
cannot go through the network at once; yet every encoder is a sum or a maximum
over locations, so the image can go through in tiles whose results add up. A
tile is exact when it reproduces the whole image's activations on its part of
the map:

- it is extended on each side by a *margin* of at least the receptive-field
  radius of the deepest layer (the zero padding at a tile's cut edge changes
  nothing inside the margin); only its *core* counts;
- it starts on the deepest layer's pooling grid (a multiple of
  ``2 ** n_pools``), so its 2 x 2 poolings pair the same pixels as the whole
  image's; and it ends on that grid or at the image's own edge, where VGG16's
  flooring poolings drop the same last rows as for the whole image;
- at the image's own edge the tile is not extended: the network's zero
  padding there is the whole image's.

The cores partition the image, and at every layer down to the deepest the
cores' maps partition the whole map, so sums over tiles' cores equal sums over
the map (up to float rounding) and maxima are equal.
"""

import dataclasses

from ..exceptions import InputError
from . import _layers


def receptive_radius(layer):
    """Input pixels a location of ``layer`` sees on each side of its own pooling cell.

    Each 3x3 convolution at pooling level ``p`` widens the field by ``2 ** p``
    pixels on each side, and each 2x2 pooling from level ``p`` by ``2 ** p``
    on one side (bounded here by both).
    """
    if layer == _layers.IMAGE_LAYER:
        return 0
    radius = 0
    for name in _layers.CONV_LAYERS:
        level = _layers.n_pools_before(name)
        radius += 2**level
        if name == layer:
            break
    # the poolings passed on the way
    return radius + sum(2**level for level in range(_layers.n_pools_before(layer)))


def alignment(layer):
    """Pixels between the starts of two cells of the deepest pooling grid."""
    return 2 ** _layers.n_pools_before(layer)


def margin(layer):
    """Pixels each tile is extended by: the receptive radius, rounded up to the grid."""
    step = alignment(layer)
    return _ceil_div(receptive_radius(layer), step) * step


def min_tile_pixels(layer):
    """The smallest tile budget that leaves each tile a core of one grid cell."""
    side = alignment(layer) + 2 * margin(layer)
    return side * side


@dataclasses.dataclass(frozen=True)
class Tile:
    """One tile: the input pixels it reads and the part of the map it gives.

    ``rows``/``cols`` are the image pixels read (core plus margins, clipped to
    the image); ``core_rows``/``core_cols`` the pixels it stands for, as
    ``(start, stop)``; both starts are on the deepest layer's grid.
    """

    rows: slice
    cols: slice
    core_rows: tuple
    core_cols: tuple

    def block(self, layer):
        """Where this tile's part of ``layer``'s map lies.

        Returns
        -------
        local : (slice, slice)
            The core, in the tile's own map of ``layer``.
        offset : (int, int)
            Its first location in the whole image's map of ``layer``.
        """
        shift = _layers.n_pools_before(layer)
        top, bottom = self.core_rows[0] >> shift, self.core_rows[1] >> shift
        left, right = self.core_cols[0] >> shift, self.core_cols[1] >> shift
        row0 = top - (self.rows.start >> shift)
        col0 = left - (self.cols.start >> shift)
        return (slice(row0, row0 + bottom - top), slice(col0, col0 + right - left)), (top, left)


def _ceil_div(a, b):
    return -(-a // b)


def _cuts(length, core, step):
    """Core boundaries along one side: ``step`` multiples at most ``core`` apart, then the end."""
    # Balanced cores (a last core of a few pixels would cost a whole tile),
    # rounded up to the grid: at most ``core`` since ``core`` is on it.
    size = _ceil_div(_ceil_div(length, _ceil_div(length, core)), step) * step
    return [*range(0, length, size), length]


def plan(height, width, deepest, max_pixels):
    """The tiles of a ``height`` x ``width`` image for layers down to ``deepest``.

    Parameters
    ----------
    height, width : int
        The image's size, as the network sees it.
    deepest : str
        The deepest layer computed: it sets the margin and the grid.
    max_pixels : int
        Most pixels one tile (core and margins) may have.

    Returns
    -------
    tiles : list of Tile
        One tile covering the whole image when it has at most ``max_pixels``
        pixels; else tiles of at most ``max_pixels`` pixels each, row by row.

    Raises
    ------
    ValueError
        If ``max_pixels`` leaves no core for ``deepest``'s margins.
    """
    if height * width <= max_pixels:
        return [Tile(slice(0, height), slice(0, width), (0, height), (0, width))]
    if max_pixels < min_tile_pixels(deepest):
        raise InputError(
            f"tile_pixels={max_pixels} is too small for {deepest}: a tile needs a margin of "
            f"{margin(deepest)} pixels on each side, so at least {min_tile_pixels(deepest)} "
            "pixels"
        )
    step, extend = alignment(deepest), margin(deepest)
    # The largest square core on the grid whose tile (core and both margins) fits.
    side = int(max_pixels**0.5)
    core = max(step, (side - 2 * extend) // step * step)
    row_cuts = _cuts(height, core, step)
    col_cuts = _cuts(width, core, step)
    tiles = []
    for top, bottom in zip(row_cuts, row_cuts[1:]):
        for left, right in zip(col_cuts, col_cuts[1:]):
            tiles.append(Tile(
                slice(max(0, top - extend), min(height, bottom + extend)),
                slice(max(0, left - extend), min(width, right + extend)),
                (top, bottom), (left, right),
            ))
    return tiles
