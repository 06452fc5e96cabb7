"""Featurization in this process against 1 and 2 local Dask workers, in one run.

Prints the images/s of ``featurize`` (block4_conv3 mean features, no cache) on
the same images: in this process, on a ``LocalCluster`` of one worker and of
two workers (each one thread: TensorFlow's own threads do the rest), and the
ratios. On a 2-core machine the point is the overhead, not a gain: the target
is one Dask worker within 10 % of the in-process run. Each figure is the best
of ``--rounds``, taken after a warm-up that builds every worker's network.

Usage::

    python benchmarks/bench_parallel.py [--images 32] [--size 224] [--rounds 2]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import joblib  # noqa: E402
import numpy as np  # noqa: E402

from sklearn_cnntexture import VGGLayerTransformer  # noqa: E402
from sklearn_cnntexture.features.featurize import featurize  # noqa: E402


def best_seconds(images, rounds, **workers):
    vgg = VGGLayerTransformer("block4_conv3", weights="hed-bsds500")
    featurize(images[:4], vgg, **workers)  # warm-up: every worker builds its network
    best = np.inf
    for _ in range(rounds):
        start = time.perf_counter()
        featurize(images, vgg, **workers)
        best = min(best, time.perf_counter() - start)
    return best


def main():
    from dask.distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    images = list(rng.integers(0, 256, (args.images, args.size, args.size), np.uint8))
    seconds = {"this process": best_seconds(images, args.rounds)}
    for n_workers in (1, 2):
        with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster), \
                joblib.parallel_backend("dask"):
            # Two chunks per worker: enough to balance, few enough to keep overhead low.
            seconds[f"{n_workers} Dask worker(s)"] = best_seconds(
                images, args.rounds, chunk_size=max(1, args.images // (2 * n_workers)))
    here = seconds["this process"]
    print(f"featurize, block4_conv3 mean, {args.images} images {args.size}x{args.size}, "
          f"{os.cpu_count()} cores:")
    for name, s in seconds.items():
        print(f"  {name:18s} {args.images / s:6.2f} images/s  ({here / s:.2f} x this process)")
    overhead = seconds["1 Dask worker(s)"] / here - 1
    print(f"one Dask worker's overhead: {100 * overhead:+.1f} % (target <= 10 %)")


if __name__ == "__main__":
    main()
