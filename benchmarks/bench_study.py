"""How much the study's featurization costs next to one plain forward pass.

The study's promise: a whole layer x encoder grid for about the price of one
forward pass per image. This times, in one run on the same images:

1. a plain forward pass: every image read, preprocessed and run through
   ``keras.applications.VGG16`` cut at block5_conv3 (what any script would do);
2. the same forward pass through our compiled forward function alone;
3. the study's featurization from an empty cache: ``fill_cache`` for the
   non-VLAD grid (the paper's five layers + the raw image x mean, max, Gram),
   which reads, fingerprints, runs the network once, computes every
   statistic of every layer and writes the cache;
4. the grid search's reads of the cache: every candidate x fold (the paper's
   3 x 3-fold CV here) encoding from the cache, forests excluded.

and prints featurization / plain forward (target <= 1.3). Run:
``python benchmarks/bench_study.py [n_images]`` (default: the 36 shipped UHCS
micrographs, 645 x 475; hed-bsds500 weights, offline).
"""

import sys
import tempfile
import time

from sklearn_cnntexture import (
    PAPER_LAYERS,
    VGGLayerTransformer,
    _backbone,
    backbone_image_count,
    io,
    load_uhcs_sample,
)
from sklearn_cnntexture.study import fill_cache, make_study
from sklearn_cnntexture.weights import resolve_weights


def plain_forward(paths, weights_key):
    import keras

    base = _backbone._network(weights_key)
    model = keras.Model(base.input, base.get_layer("block5_conv3").output)
    for path in paths:
        rgb = io.to_rgb_float(io.read_image(path))
        batch = keras.applications.vgg16.preprocess_input(rgb[None])
        model(batch, training=False).numpy()


def our_forward(paths, weights_key):
    forward = _backbone.forward_function(weights_key, ("block5_conv3",))
    for path in paths:
        rgb = io.to_rgb_float(io.read_image(path))
        forward(_backbone.caffe_preprocess(rgb[None]))


def timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main():
    paths, y = load_uhcs_sample(return_X_y=True)
    if len(sys.argv) > 1:
        paths, y = paths[: int(sys.argv[1])], y[: int(sys.argv[1])]
    paths = list(paths)
    key = resolve_weights("hed-bsds500", None)
    # Warm-up on one image: build the networks and compile, not timed.
    plain_forward(paths[:1], key)
    our_forward(paths[:1], key)

    with tempfile.TemporaryDirectory() as cache:
        search = make_study(encoders=["mean", "max", "gram"], n_repeats=1,
                            vgg=VGGLayerTransformer(weights="hed-bsds500", cache=cache))
        # compile the study's forward function on a throwaway cache
        with tempfile.TemporaryDirectory() as warm:
            fill_cache(make_study(encoders=["mean"],
                                  vgg=VGGLayerTransformer(weights="hed-bsds500", cache=warm)),
                       paths[:1], verbose=False)

        t_plain = timed(plain_forward, paths, key)
        t_ours = timed(our_forward, paths, key)
        before = backbone_image_count()
        t_study = timed(lambda: fill_cache(search, paths, y, verbose=False))
        forwarded = backbone_image_count() - before

        # every candidate x fold reading its features back (no forests)
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
    print(f"{n} images {w}x{h}, hed-bsds500 weights, {len(PAPER_LAYERS)} layers + raw image "
          "x mean, max, Gram")
    print(f"plain keras forward pass to block5_conv3: {t_plain:.1f} s "
          f"({n / t_plain:.2f} images/s)")
    print(f"our compiled forward pass alone:         {t_ours:.1f} s ({n / t_ours:.2f} images/s)")
    print(f"study featurization (empty cache):       {t_study:.1f} s, "
          f"{forwarded} images through the network")
    print(f"featurization / plain forward = {t_study / t_plain:.2f} (target <= 1.3); "
          f"/ our forward = {t_study / t_ours:.2f}")
    print(f"grid search's cache reads: {n_reads} candidate x fold encodings in {t_reads:.1f} s "
          f"({t_reads / n_reads:.2f} s each)")


if __name__ == "__main__":
    main()
