"""Speed and memory of the VGG16 forward pass, as ratios measured in one run.

Prints:

1. images per second of ``VGGLayerTransformer`` (block5_conv3, the whole
   convolutional stack) and its effective GFLOP/s;
2. that divided by numpy's float32 matrix-multiply GFLOP/s (target >= 0.95);
3. its speed divided by a plain per-image ``keras.applications.VGG16`` loop on
   the same images and weights (target >= 1.2);
4. the peak memory (max RSS, TensorFlow included) of a block1_conv2 Gram
   pipeline over 200 images of 512 x 512 read from files (target <= 2 GiB).

The machine may be shared and noisy, so each speed is the best of several
rounds, and rounds of the compared things alternate. Usage::

    python benchmarks/bench_forward.py [--images 16] [--size 224] [--rounds 3]
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from sklearn_cnntexture import VGGLayerTransformer
from sklearn_cnntexture.features import _layers
from sklearn_cnntexture.features.weights import load_kernels, resolve_weights  # noqa: E402

WEIGHTS = dict(weights=None, random_state=0)  # speed does not depend on the values


def conv_flops(height, width, last="block5_conv3"):
    """Multiply-adds x 2 of VGG16's convolutions up to ``last`` for one image."""
    flops = 0
    for name, (c_in, c_out) in zip(_layers.CONV_LAYERS, _layers.CONV_SHAPES):
        h, w = _layers.output_size(height, width, name)
        flops += 2 * h * w * 9 * c_in * c_out
        if name == last:
            return flops
    raise ValueError(last)


def matmul_gflops(n=2048, repeats=10):
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    a @ a
    start = time.perf_counter()
    for _ in range(repeats):
        a @ a
    return repeats * 2 * n**3 / (time.perf_counter() - start) / 1e9


def plain_keras_loop(images):
    """The baseline: keras.applications.VGG16 called on one image at a time."""
    import keras

    model = keras.applications.VGG16(weights=None, include_top=False)
    for name, (kernel, bias) in zip(
        _layers.CONV_LAYERS, load_kernels(resolve_weights(**WEIGHTS))
    ):
        model.get_layer(name).set_weights([kernel, bias])
    rgb = np.repeat(images[..., None].astype(np.float32), 3, axis=-1)
    x = keras.applications.vgg16.preprocess_input(rgb)

    def run():
        return [np.asarray(model(x[i : i + 1], training=False)) for i in range(len(x))]

    return run


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def speed(n_images, size, rounds):
    images = np.random.default_rng(0).integers(0, 256, (n_images, size, size), np.uint8)
    vgg = VGGLayerTransformer("block5_conv3", batch_size=8, **WEIGHTS)
    ours = lambda: np.asarray(vgg.transform(images))  # noqa: E731
    plain = plain_keras_loop(images)
    compile_s = timed(ours)  # first call: builds the network, XLA-compiles this shape
    timed(plain)
    best = {"ours": np.inf, "plain": np.inf}
    best_matmul = 0.0
    for _ in range(rounds):
        best_matmul = max(best_matmul, matmul_gflops())
        best["ours"] = min(best["ours"], timed(ours))
        best["plain"] = min(best["plain"], timed(plain))
    flops = n_images * conv_flops(size, size)
    gflops = flops / best["ours"] / 1e9
    print(f"forward pass, block5_conv3, {n_images} images {size}x{size}, batch 8: "
          f"{n_images / best['ours']:.2f} images/s, {gflops:.1f} GFLOP/s effective "
          f"(first call with build and XLA compile: {compile_s:.1f} s)")
    print(f"numpy float32 matmul: {best_matmul:.1f} GFLOP/s -> forward / matmul = "
          f"{gflops / best_matmul:.3f} (target >= 0.95)")
    print(f"plain per-image keras.applications.VGG16 loop: "
          f"{n_images / best['plain']:.2f} images/s -> ours / plain = "
          f"{best['plain'] / best['ours']:.2f} x (target >= 1.2)")


def memory_child(n_images, size):
    """Run in a fresh process: a Gram pipeline over image files; print peak RSS."""
    from PIL import Image
    from sklearn.pipeline import Pipeline

    from sklearn_cnntexture import GramEncoder

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i in range(n_images):
            paths.append(os.path.join(folder, f"{i}.png"))
            Image.fromarray(rng.integers(0, 256, (size, size), np.uint8)).save(paths[-1])
        pipe = Pipeline(
            [("vgg", VGGLayerTransformer("block1_conv2", **WEIGHTS)), ("gram", GramEncoder())]
        )
        start = time.perf_counter()
        features = pipe.fit_transform(paths)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    whole = n_images * size * size * 64 * 4 / 2**30
    print(f"peak memory, block1_conv2 Gram pipeline, {n_images} images {size}x{size} "
          f"from files: {peak:.2f} GiB (target <= 2 GiB; all activations at once would be "
          f"{whole:.1f} GiB); {features.shape[1]} features in {seconds:.0f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory-images", type=int, default=200)
    parser.add_argument("--memory-size", type=int, default=512)
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_images, args.memory_size)
        return
    speed(args.images, args.size, args.rounds)
    # Peak RSS is per process: measure memory in a fresh one, unpolluted by the above.
    subprocess.run(
        [sys.executable, __file__, "--memory-child",
         f"--memory-images={args.memory_images}", f"--memory-size={args.memory_size}"],
        check=True,
    )  # fmt: skip


if __name__ == "__main__":
    main()
