"""Memory: what a forward pass needs, what the machine has, and refusals before running.

A forward pass that cannot fit is refused before it runs, with a message naming
the image and the remedy, rather than ending in the kernel's out-of-memory
killer or a swapping machine. Images are tiled to fit (``_tiling.py``), so only
a tile budget set above what the machine has gets here.
"""

import os

import numpy as np

from . import _layers

#: Share of the machine's available memory one forward pass may plan to use;
#: beyond it an image is refused before the network runs (see check_forward).
MEMORY_FRACTION = 0.8


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


def _amount(n_bytes):
    return f"{n_bytes / 2**30:.1f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.0f} MiB"


def check_maps(need, size, layers, source):
    """Refuse, before the network runs, whole maps of a tiled image that cannot fit.

    Raises
    ------
    MemoryError
        Naming the image, its size, the maps' size and the remedy.
    """
    available = available_memory()
    if available is not None and need > MEMORY_FRACTION * available:
        raise MemoryError(
            f"{source} is {size[0]} x {size[1]} pixels: its whole maps of {layers} take "
            f"{_amount(need)}, more than this machine has available ({_amount(available)}). "
            "Encode them instead (MeanPool, GramEncoder, ...: computed tile by tile), or ask "
            "for fewer filters."
        )


def check_forward(size, n_images, layers, source, *, tiled=False):
    """Refuse, before it runs, a forward pass that cannot fit in memory.

    Images are tiled to fit (see ``_tiling.py``), so only a tile budget set
    too high for the machine, or an image whose tile is all it can take,
    gets here.

    Raises
    ------
    MemoryError
        Naming the image, its size, the estimate and the remedy.
    """
    need = forward_memory(size, n_images, layers)
    available = available_memory()
    if available is None or need <= MEMORY_FRACTION * available:
        return
    what = f"a tile of {source}" if tiled else source
    raise MemoryError(
        f"{what} is {size[0]} x {size[1]} pixels: its forward pass through "
        f"{max(layers, key=_layers.layer_order)} needs about {_amount(need)}, more "
        f"than this machine has available ({_amount(available)}). Lower tile_pixels "
        "(--tile-pixels on the command line): larger images are computed in tiles of at "
        "most that many pixels, with the same features."
    )
