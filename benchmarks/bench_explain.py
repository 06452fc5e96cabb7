"""Speed and gain of activation maximization (``textures.filter_textures``).

Prints, for the pretrained offline weights (``hed-bsds500``) at the default
settings (40 steps, step 2, blur 0.35):

1. one 128 x 128 texture of a block3_conv3 filter and of a block5_conv3
   filter: the first call (network built from the weights file, sub-model
   and gradient step traced) separately from the steady state (the same call
   again, cache off), and the filter's mean activation before and after;
2. a batch of 16 textures (block3_conv3 by default): first call and steady
   state, seconds per texture, and the spread of the gains.

TensorFlow is imported before any timing, so its import is not counted.
Usage::

    python benchmarks/bench_explain.py [--size 128] [--steps 40] [--batch 16]
        [--batch-layers block3_conv3 block5_conv3] [--save textures.npz]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def gain_text(tex):
    return " ".join(
        f"{a0:.3g} -> {a1:.3g} ({g:.0f}x)"
        for a0, a1, g in zip(tex.initial_activation, tex.activation, tex.gain)
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=None, help="default: the library's")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--batch-layers", nargs="*", default=["block3_conv3"])
    parser.add_argument("--weights", default="hed-bsds500")
    parser.add_argument("--color", default="rgb", choices=["rgb", "gray"])
    parser.add_argument("--save", default=None, help="write the textures to this .npz")
    args = parser.parse_args()

    start = time.perf_counter()
    import tensorflow as tf

    from sklearn_cnntexture import VGGLayerTransformer, filter_textures

    print(f"import tensorflow: {time.perf_counter() - start:.1f} s (not counted below)")
    options = {"vgg": VGGLayerTransformer(weights=args.weights), "size": args.size,
               "cache": False, "color": args.color}
    if args.steps is not None:
        options["steps"] = args.steps
    steps = options.get("steps", filter_textures.__kwdefaults__["steps"])
    print(
        f"weights={args.weights}, {args.color}, {args.size} x {args.size}, {steps} steps, "
        f"{os.cpu_count()} CPU cores, TensorFlow {tf.__version__}"
    )
    saved = {}
    # Filter 2: among the first four, the most active on the noise in both layers.
    for layer, f in (("block3_conv3", 2), ("block5_conv3", 2)):
        first, t_first = timed(filter_textures, layer, f, **options)
        steady, t_steady = timed(filter_textures, layer, f, **options)
        assert np.array_equal(first.raw_images, steady.raw_images), "not deterministic"
        print(
            f"{layer} filter {f}, 1 texture: first call {t_first:.1f} s (build + trace), "
            f"steady {t_steady:.1f} s ({1000 * t_steady / steps:.0f} ms/step); "
            f"mean activation {gain_text(steady)}"
        )
        saved[f"{layer}_{f}"] = steady.images[0]
    for layer in args.batch_layers:
        filters = list(range(args.batch))
        first, t_first = timed(filter_textures, layer, filters, **options, batch_size=args.batch)
        steady, t_steady = timed(filter_textures, layer, filters, **options, batch_size=args.batch)
        gains = steady.gain
        finite = gains[np.isfinite(gains)]
        silent = int(np.sum(steady.activation == 0))
        print(
            f"{layer} batch of {args.batch}: first call {t_first:.1f} s (new batch shape; the "
            f"step is traced once for all shapes), steady {t_steady:.1f} s "
            f"({t_steady / args.batch:.1f} s per texture); gain min {finite.min():.0f}x, "
            f"median {np.median(finite):.0f}x, max {finite.max():.0f}x over {finite.size} "
            f"filters active on the noise, {int(np.isinf(gains).sum())} woken from 0, "
            f"{silent} silent throughout"
        )
        for f, image in zip(filters, steady.images):
            saved[f"{layer}_{f}"] = image
    if args.save:
        np.savez_compressed(args.save, **saved)
        print(f"textures saved to {args.save}")


if __name__ == "__main__":
    main()
