"""bfloat16 against float32 forward passes, as ratios measured in one run.

Prints, for VGG16 up to block5_conv3 on the same random 8-bit images:

1. images/s and effective GFLOP/s of float32 and bfloat16, each with and
   without XLA (the library uses the faster: oneDNN without XLA for both, on
   the CPUs it was measured on), and the bfloat16 / float32 ratio (target >= 1.6
   on a CPU with AVX-512 BF16);
2. numpy's float32 matrix multiply GFLOP/s, and bfloat16 / matmul (target >= 1.8);
3. the largest relative deviation of bfloat16's mean features from float32's,
   on the shipped UHCS micrographs with the pretrained hed-bsds500 weights, per
   paper layer (deviation over the largest float32 feature of the layer).

Rounds of the compared passes alternate and each figure is the best of
``--rounds``, so a noisy, shared machine moves them together. Usage::

    python benchmarks/bench_precision.py [--images 16] [--size 224] [--rounds 3]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

# The FLOP count and the matmul yardstick are bench_forward's (this script's folder is
# on sys.path when it runs): one definition of what a GFLOP/s figure means.
from bench_forward import conv_flops, matmul_gflops  # noqa: E402

from sklearn_cnntexture import PAPER_LAYERS, MeanPool, VGGLayerTransformer, load_uhcs_sample
from sklearn_cnntexture.features import _backbone
from sklearn_cnntexture.features.weights import resolve_weights  # noqa: E402

VARIANTS = [("float32", False), ("float32", True), ("bfloat16", False), ("bfloat16", True)]


def speeds(n_images, size, rounds, batch=8):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (n_images, size, size, 1)).astype(np.float32).repeat(3, -1)
    batches = [_backbone.caffe_preprocess(rgb[i : i + batch]) for i in range(0, n_images, batch)]
    key = resolve_weights(None, 0)  # speed does not depend on the values
    forwards = {
        variant: _backbone.forward_function(key, ("block5_conv3",), variant[0], variant[1])
        for variant in VARIANTS
    }
    for forward in forwards.values():  # build, trace and compile once
        forward(batches[0])
    best = dict.fromkeys(forwards, np.inf)
    best_matmul = 0.0
    for _ in range(rounds):
        best_matmul = max(best_matmul, matmul_gflops())
        for variant, forward in forwards.items():
            start = time.perf_counter()
            for b in batches:
                forward(b)
            best[variant] = min(best[variant], time.perf_counter() - start)
    flops = n_images * conv_flops(size, size)
    print(f"block5_conv3, {n_images} images {size}x{size}, batches of {batch}:")
    for (precision, xla), seconds in best.items():
        print(f"  {precision:8s} {'XLA   ' if xla else 'oneDNN'}  {n_images / seconds:6.2f} "
              f"images/s  {flops / seconds / 1e9:7.1f} GFLOP/s")
    f32, bf16 = best[("float32", False)], best[("bfloat16", False)]
    print(f"bfloat16 / float32 (the library's choices, oneDNN): {f32 / bf16:.2f} x "
          f"(target >= 1.6)")
    print(f"numpy float32 matmul: {best_matmul:.1f} GFLOP/s -> bfloat16 / matmul = "
          f"{flops / bf16 / 1e9 / best_matmul:.2f} x (target >= 1.8); "
          f"float32 / matmul = {flops / f32 / 1e9 / best_matmul:.2f} x")


def deviations():
    paths = list(load_uhcs_sample(return_X_y=True)[0])
    print(f"mean features, bfloat16 vs float32, {len(paths)} UHCS micrographs, hed-bsds500:")
    for layer in PAPER_LAYERS:
        features = {
            precision: MeanPool().fit_transform(
                VGGLayerTransformer(layer, weights="hed-bsds500", precision=precision)
                .transform(paths)
            )
            for precision in ("float32", "bfloat16")
        }
        full, half = features["float32"], features["bfloat16"]
        worst = np.abs(half - full).max() / np.abs(full).max()
        typical = np.abs(half - full).mean() / np.abs(full).mean()
        print(f"  {layer}: largest deviation {100 * worst:.2f} % of the largest feature, "
              f"mean {100 * typical:.2f} %")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    speeds(args.images, args.size, args.rounds)
    deviations()


if __name__ == "__main__":
    main()
