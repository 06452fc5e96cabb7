"""How much the study's featurization costs next to one plain forward pass.

The study's promise: a whole layer x encoder grid for about the price of one
forward pass per image. This times, on the same images:

1. a plain forward pass: every image read, preprocessed and run through
   ``keras.applications.VGG16`` cut at block5_conv3, in float32 (what any
   script would do);
2. the same forward pass through our compiled forward function alone, in
   float32 and in bfloat16;
3. the study's featurization from an empty cache, in float32 and in
   bfloat16: ``fill_cache`` for the non-VLAD grid (the paper's five layers +
   the raw image x mean, max, Gram), which reads, fingerprints, runs the
   network once, computes every statistic of every layer and writes the cache;
4. the grid search's reads of the (float32) cache: every candidate x fold (the
   paper's 3 x 3-fold CV here) encoding from the cache, forests excluded.

The passes take turns on a few images at a time (rounds), so that a machine
shared with other work slows each of them alike and the ratios stay fair.
Prints featurization / plain forward (target <= 1.1 in float32), and the
bfloat16 featurization over the plain float32 pass and over our own bfloat16
pass: with a faster network, the work around it weighs twice as much. Run:
``python benchmarks/bench_study.py [n_images] [images_per_round]`` (default:
the 36 shipped UHCS micrographs, 645 x 475, 6 per round; hed-bsds500
weights, offline).
"""

import functools
import os
import sys
import tempfile
import time

from sklearn_cnntexture import (
    PAPER_LAYERS,
    VGGLayerTransformer,
    backbone_image_count,
    io,
    load_uhcs_sample,
)
from sklearn_cnntexture.features import _backbone
from sklearn_cnntexture.features.weights import resolve_weights
from sklearn_cnntexture.study import fill_cache, make_study

PRECISIONS = ("float32", "bfloat16")


def plain_forward(paths, weights_key):
    import keras

    base = _backbone._network(weights_key)
    model = keras.Model(base.input, base.get_layer("block5_conv3").output)
    for path in paths:
        rgb = io.to_rgb_float(io.read_image(path))
        batch = keras.applications.vgg16.preprocess_input(rgb[None])
        model(batch, training=False).numpy()


def our_forward(paths, weights_key, precision):
    forward = _backbone.forward_function(weights_key, ("block5_conv3",), precision)
    for path in paths:
        rgb = io.to_rgb_float(io.read_image(path))
        forward(_backbone.caffe_preprocess(rgb[None]))


def study(cache, precision, encoders=("mean", "max", "gram")):
    return make_study(encoders=list(encoders), n_repeats=1,
                      vgg=VGGLayerTransformer(weights="hed-bsds500", cache=cache,
                                              precision=precision))


def timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main():
    paths, y = load_uhcs_sample(return_X_y=True)
    if len(sys.argv) > 1:
        paths, y = paths[: int(sys.argv[1])], y[: int(sys.argv[1])]
    per_round = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    paths = list(paths)
    key = resolve_weights("hed-bsds500", None)
    # Warm-up on one image: build the networks and compile, not timed.
    plain_forward(paths[:1], key)
    with tempfile.TemporaryDirectory() as warm:
        for precision in PRECISIONS:
            our_forward(paths[:1], key, precision)
            fill_cache(study(os.path.join(warm, precision), precision, ["mean"]), paths[:1],
                       verbose=False)

    times = {name: 0.0 for name in ("plain", *(f"{p} {w}" for p in PRECISIONS
                                               for w in ("ours", "study")))}
    with tempfile.TemporaryDirectory() as caches:
        searches = {p: study(os.path.join(caches, p), p) for p in PRECISIONS}
        before = backbone_image_count()
        for start in range(0, len(paths), per_round):
            chunk = paths[start:start + per_round]
            times["plain"] += timed(plain_forward, chunk, key)
            for precision in PRECISIONS:
                times[f"{precision} ours"] += timed(our_forward, chunk, key, precision)
                times[f"{precision} study"] += timed(
                    functools.partial(fill_cache, searches[precision], chunk, verbose=False))
        forwarded = backbone_image_count() - before  # the studies' (ours are not counted)

        # every candidate x fold reading its features back (no forests)
        search = searches["float32"]
        pipeline = search.estimator
        start = time.perf_counter()
        n_reads = 0
        for part in search.param_grid:
            for layers in part["vgg__layers"]:
                for encoder in part["encode"]:
                    steps = pipeline[:-1].set_params(vgg__layers=layers, encode=encoder)
                    for train, test in search.cv.split(paths, y):
                        steps.fit_transform([paths[i] for i in train])
                        steps.transform([paths[i] for i in test])
                        n_reads += 1
        t_reads = time.perf_counter() - start

    n = len(paths)
    h, w = io.read_image(paths[0]).shape[:2]
    t_plain = times["plain"]
    print(f"{n} images {w}x{h}, hed-bsds500 weights, {len(PAPER_LAYERS)} layers + raw image "
          f"x mean, max, Gram; passes in turns of {per_round} images")
    print(f"plain keras forward pass to block5_conv3 (float32): {t_plain:.1f} s "
          f"({n / t_plain:.2f} images/s)")
    for precision in PRECISIONS:
        ours, featurize = times[f"{precision} ours"], times[f"{precision} study"]
        print(f"{precision}: our compiled forward pass alone {ours:.1f} s "
              f"({n / ours:.2f} images/s); study featurization (empty cache) {featurize:.1f} s")
    print(f"{forwarded} images through the study's network ({len(PRECISIONS)} x {n} expected)")
    ours, featurize = times["float32 ours"], times["float32 study"]
    print(f"float32: featurization / plain forward = {featurize / t_plain:.2f} (target <= 1.1); "
          f"/ our forward = {featurize / ours:.2f}")
    ours, featurize = times["bfloat16 ours"], times["bfloat16 study"]
    print(f"bfloat16: featurization / plain float32 forward = {featurize / t_plain:.2f}; "
          f"/ our bfloat16 forward = {featurize / ours:.2f}")
    print(f"grid search's cache reads: {n_reads} candidate x fold encodings in {t_reads:.1f} s "
          f"({t_reads / n_reads:.2f} s each)")


if __name__ == "__main__":
    main()
