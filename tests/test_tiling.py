"""Exact tiling of large images: the plan's arithmetic, and tiled == untiled features."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_cnntexture import (
    PAPER_LAYERS,
    MeanPool,
    MultiLayerUnion,
    VGGLayerTransformer,
    VLADEncoder,
)
from sklearn_cnntexture.features import _layers, _stats, _tiling

LAYERS = (_layers.IMAGE_LAYER, *_layers.CONV_LAYERS)


def test_receptive_radius_of_the_paper_layers():
    # Each 3x3 convolution adds 2**level pixels a side, each pooling 2**level:
    # block5_conv3 = 2*1 + 2*2 + 3*4 + 3*8 + 3*16 + (1 + 2 + 4 + 8) = 105.
    radii = [_tiling.receptive_radius(layer) for layer in _layers.PAPER_LAYERS]
    assert radii == [2, 7, 21, 49, 105]
    assert _tiling.receptive_radius("image") == 0


@settings(max_examples=80, deadline=None)
@given(height=st.integers(1, 900), width=st.integers(1, 900),
       layer=st.sampled_from(LAYERS), extra=st.integers(0, 2**20))
def test_the_cores_partition_every_layer_map(height, width, layer, extra):
    budget = _tiling.min_tile_pixels(layer) + extra
    tiles = _tiling.plan(height, width, layer, budget)
    step = _tiling.alignment(layer)
    for tile in tiles:
        pixels = (tile.rows.stop - tile.rows.start) * (tile.cols.stop - tile.cols.start)
        assert pixels <= max(budget, height * width if len(tiles) == 1 else 0)
        # Starts on the deepest grid; ends on it or at the image's edge.
        assert tile.rows.start % step == 0 and tile.cols.start % step == 0
        assert tile.rows.stop in (height,) or tile.rows.stop % step == 0
        assert tile.cols.stop in (width,) or tile.cols.stop % step == 0
        # The margin covers the receptive field wherever the tile was cut.
        radius = _tiling.receptive_radius(layer)
        if tile.rows.start > 0:
            assert tile.core_rows[0] - tile.rows.start >= radius
        if tile.rows.stop < height:
            assert tile.rows.stop - tile.core_rows[1] >= radius
    for level_layer in LAYERS[: LAYERS.index(layer) + 1]:
        h, w = _layers.output_size(height, width, level_layer)
        covered = np.zeros((h, w), dtype=int)
        for tile in tiles:
            (rows, cols), (top, left) = tile.block(level_layer)
            tile_h, tile_w = _layers.output_size(tile.rows.stop - tile.rows.start,
                                                 tile.cols.stop - tile.cols.start, level_layer)
            assert 0 <= rows.start <= rows.stop <= tile_h
            assert 0 <= cols.start <= cols.stop <= tile_w
            covered[top:top + rows.stop - rows.start, left:left + cols.stop - cols.start] += 1
        assert (covered == 1).all()


def test_an_image_within_the_budget_is_one_tile():
    (tile,) = _tiling.plan(500, 400, "block5_conv3", 500 * 400)
    assert (tile.rows, tile.cols) == (slice(0, 500), slice(0, 400))


def test_a_budget_below_the_margins_is_refused():
    with pytest.raises(ValueError, match=r"tile_pixels=1000 is too small for block5_conv3.*112"):
        _tiling.plan(5000, 5000, "block5_conv3", 1000)


@settings(max_examples=100, deadline=None)
@given(height=st.integers(1, 40), width=st.integers(1, 40), channels=st.integers(1, 5),
       row_cuts=st.lists(st.integers(1, 39), max_size=3),
       col_cuts=st.lists(st.integers(1, 39), max_size=3), seed=st.integers(0, 2**32 - 1))
def test_accumulated_statistics_equal_the_whole_maps(height, width, channels, row_cuts,
                                                     col_cuts, seed):
    F = np.random.default_rng(seed).random((height, width, channels)).astype(np.float32)
    whole = _stats.compute(F.reshape(1, -1, channels), _stats.STATISTICS, seeds=[seed])
    accumulator = _stats.Accumulator(_stats.STATISTICS, (height, width), seed=seed)
    rows = sorted({0, height, *[c for c in row_cuts if c < height]})
    cols = sorted({0, width, *[c for c in col_cuts if c < width]})
    for top, bottom in zip(rows, rows[1:]):
        for left, right in zip(cols, cols[1:]):
            accumulator.add(F[top:bottom, left:right], top, left)
    parts = accumulator.result()
    for name in ("max", "n_locations", "descriptors"):
        np.testing.assert_array_equal(parts[name], whole[name][0])
    for name in ("mean", "gram"):
        np.testing.assert_allclose(parts[name], whole[name][0], rtol=1e-5)


def test_an_accumulator_missing_a_block_says_so():
    accumulator = _stats.Accumulator(("mean",), (4, 4))
    accumulator.add(np.ones((2, 4, 3), np.float32), 0, 0)
    with pytest.raises(ValueError, match="cover 8 locations of a map of 16"):
        accumulator.result()


# --------------------------------------------------------------------------
# Tiled == untiled, through the network (random weights: the arithmetic is the same)


ALL = (_layers.IMAGE_LAYER, *PAPER_LAYERS)


def _micrograph(height, width, seed=0):
    """8-bit grains with noise: activations that vary across the image."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    grains = ndimage.gaussian_filter(rng.random((height, width)), 4) > 0.5
    return np.clip(90 + 90 * grains + rng.normal(0, 15, (height, width)), 0, 255).astype(np.uint8)


def _relative_error(tiled, untiled):
    """Largest difference over the largest magnitude, per row (one image's features)."""
    tiled, untiled = np.atleast_2d(tiled), np.atleast_2d(untiled)
    scale = np.abs(untiled).max(axis=1, keepdims=True)
    return float((np.abs(tiled - untiled) / np.where(scale > 0, scale, 1)).max())


def _cached_statistics(vgg, image, tmp_path, name):
    folder = tmp_path / name
    acts = vgg.set_params(cache=str(folder)).transform([image])
    acts.precompute()
    return {layer: acts[layer].statistics(_stats.STATISTICS) for layer in vgg.layers}


def check_tiled_equals_untiled(image, tile_pixels, tmp_path, encoders):
    """Every statistic of every layer through the cache, then each encoder and the
    union without a cache, tiled against untiled, within 1e-4 relative."""
    def make_vgg(tiles):
        return VGGLayerTransformer(ALL, weights=None, random_state=0, tile_pixels=tiles)

    from sklearn_cnntexture import backbone_image_count

    tiles = _tiling.plan(*image.shape, "block5_conv3", tile_pixels)
    assert len(tiles) > 4  # really tiled, in both directions
    # Untiled by a budget of the whole image: the default would tile a large one.
    untiled_budget = image.shape[0] * image.shape[1]
    whole = _cached_statistics(make_vgg(untiled_budget), image, tmp_path, "untiled")
    before = backbone_image_count()
    parts = _cached_statistics(make_vgg(tile_pixels), image, tmp_path, "tiled")
    assert backbone_image_count() - before == len(tiles)  # one forward pass per tile
    for layer in ALL:
        for name in ("n_locations", "descriptors", "max"):
            np.testing.assert_allclose(parts[layer][name][0], whole[layer][name][0], rtol=1e-4,
                                       atol=1e-4 * np.abs(whole[layer][name][0]).max(),
                                       err_msg=f"{layer} {name}")
        for name in ("mean", "gram"):
            assert _relative_error(parts[layer][name][0], whole[layer][name][0]) < 1e-4, \
                (layer, name)
    # The encoders and the union, no cache: the per-image results in memory.
    for encoder in encoders:
        untiled = MultiLayerUnion(encoder).fit(make_vgg(untiled_budget).transform([image]))
        tiled_acts = make_vgg(tile_pixels).transform([image])
        tiled = MultiLayerUnion(encoder).fit(tiled_acts)
        for layer in ALL:
            if isinstance(encoder, VLADEncoder):  # the same dictionary from the same sample
                np.testing.assert_allclose(tiled.encoders_[layer].cluster_centers_,
                                           untiled.encoders_[layer].cluster_centers_,
                                           rtol=1e-4, atol=1e-4)
        # Codes with one dictionary, so that only the tiling differs.
        expected = untiled.transform(make_vgg(untiled_budget).transform([image]))
        got = untiled.transform(tiled_acts)
        assert _relative_error(got, expected) < 1e-4, type(encoder).__name__


def test_tiled_features_equal_untiled_features(tmp_path):
    # 20 tiles of at most 320 x 320 (96-pixel cores, block5's 112-pixel margins);
    # the encoders' statistics come from the cache, VLAD's codes from the union.
    check_tiled_equals_untiled(_micrograph(400, 360), 320 * 320, tmp_path,
                               [VLADEncoder(n_words=8, random_state=0)])


@pytest.mark.slow
def test_a_2048_micrograph_tiled_equals_untiled(tmp_path):
    # Every statistic of every layer through the cache; the encoders on it:
    # test_featurize_with_a_small_tile_budget_equals_untiled.
    check_tiled_equals_untiled(_micrograph(2048, 2048), 2**19, tmp_path, [])


@pytest.mark.slow
@pytest.mark.tf
def test_featurize_with_a_small_tile_budget_equals_untiled(tmp_path):
    """``cnntexture featurize --tile-pixels`` on a 2048 x 2048 micrograph: every
    encoder of the five paper layers and the raw image, against untiled."""
    import pandas as pd
    from PIL import Image

    from sklearn_cnntexture.cli import main

    data = tmp_path / "data" / "steel"
    data.mkdir(parents=True)
    Image.fromarray(_micrograph(2048, 2048)).save(data / "mosaic.png")
    layers = ",".join(ALL)
    for encoder in ("mean", "max", "gram", "vlad"):
        tables = {}
        # The whole image as one tile (the default, 2**19, would tile it too).
        for name, budget in (("untiled", 2048 * 2048), ("tiled", 2**19)):
            out = tmp_path / f"{encoder}-{name}.csv"
            assert main(["featurize", str(data.parent), "--out", str(out), "--weights",
                         "hed-bsds500", "--layers", layers, "--encoder", encoder,
                         "--cache", str(tmp_path / f"cache-{name}"),
                         "--tile-pixels", str(budget)]) == 0
            tables[name] = pd.read_csv(out)
        assert list(tables["tiled"].columns) == list(tables["untiled"].columns)
        for layer in ALL:
            columns = [c for c in tables["tiled"].columns if c.startswith(f"{layer}__")]
            got = tables["tiled"][columns].to_numpy()
            expected = tables["untiled"][columns].to_numpy()
            assert _relative_error(got, expected) < 1e-4, (encoder, layer)


def test_heat_map_of_a_tiled_image_equals_the_untiled_one():
    from sklearn_cnntexture import activation_heatmap

    image = _micrograph(200, 180)
    vgg = VGGLayerTransformer(weights=None, random_state=0)
    untiled, _ = activation_heatmap(image, "block3_conv3", 7, vgg=vgg)
    tiled, _ = activation_heatmap(image, "block3_conv3", 7,
                                  vgg=vgg.set_params(tile_pixels=_tiling.min_tile_pixels(
                                      "block3_conv3") * 2))
    assert tiled.shape == untiled.shape == (200, 180)
    assert _relative_error(tiled, untiled) < 1e-4


def test_whole_maps_of_a_tiled_image_equal_the_untiled_ones():
    image = _micrograph(150, 130)
    make = lambda tiles: VGGLayerTransformer(  # noqa: E731
        ["block1_conv2", "block3_conv3"], weights=None, random_state=0, tile_pixels=tiles)
    (untiled,) = make(None).transform([image]).iter_batches()
    (tiled,) = make(100 * 100).transform([image]).iter_batches()
    for layer in untiled:
        assert tiled[layer].shape == untiled[layer].shape
        assert _relative_error(tiled[layer].ravel(), untiled[layer].ravel()) < 1e-4


def test_whole_maps_larger_than_memory_are_refused_before_the_network_runs(monkeypatch):
    from sklearn_cnntexture import backbone_image_count
    from sklearn_cnntexture.features import _memory

    # 8 MiB left: a 64 x 64 tile's forward pass fits, the 15 MiB map does not.
    monkeypatch.setattr(_memory, "available_memory", lambda: 8 * 2**20)
    acts = VGGLayerTransformer("block1_conv2", weights=None, random_state=0,
                               tile_pixels=64 * 64).transform([_micrograph(300, 200)])
    before = backbone_image_count()
    with pytest.raises(MemoryError, match=r"image at index 0 is 300 x 200 pixels: its whole "
                                          r"maps.*15 MiB.*Encode them instead"):
        np.asarray(acts)
    assert backbone_image_count() == before
    # Encoding works: it never holds a whole map.
    assert MeanPool().fit_transform(acts).shape == (1, 64)


@pytest.mark.parametrize("kind", ["gray8", "gray16", "rgb", "rgba", "big-endian", "deflate"])
def test_uncompressed_tiffs_are_mapped_the_rest_read(tmp_path, kind):
    import tifffile

    from sklearn_cnntexture import io

    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (120, 90), dtype=np.uint8)
    options = {}
    if kind == "gray16":
        image = rng.integers(0, 65535, (120, 90), dtype=np.uint16)
    elif kind in ("rgb", "rgba"):
        image = rng.integers(0, 255, (120, 90, 3 if kind == "rgb" else 4), dtype=np.uint8)
        options = {"photometric": "rgb"}
        if kind == "rgba":
            options["extrasamples"] = ["unassalpha"]
    elif kind == "big-endian":
        image = rng.integers(0, 65535, (120, 90), dtype=np.uint16)
        options = {"byteorder": ">"}
    elif kind == "deflate":
        options = {"compression": "zlib"}
    path = tmp_path / "micrograph.tif"
    tifffile.imwrite(path, image, **options)
    lazy = io.read_image_lazily(path)
    assert isinstance(lazy, np.memmap) == (kind not in ("big-endian", "deflate"))
    np.testing.assert_array_equal(lazy, io.read_image(path))
    assert lazy.dtype == io.read_image(path).dtype


def test_a_mapped_tiff_tiles_like_the_array(tmp_path):
    import tifffile

    image = _micrograph(300, 260)
    path = tmp_path / "mosaic.tif"
    tifffile.imwrite(path, image)
    vgg = VGGLayerTransformer("block3_conv3", weights=None, random_state=0,
                              tile_pixels=_tiling.min_tile_pixels("block3_conv3") * 4)
    from_file = MeanPool().fit_transform(vgg.transform([str(path)]))
    from_array = MeanPool().fit_transform(vgg.transform([image]))
    np.testing.assert_array_equal(from_file, from_array)


def test_a_transformer_saved_before_tile_pixels_loads_with_the_default():
    import pickle

    vgg = VGGLayerTransformer(weights=None, random_state=0)
    del vgg.tile_pixels  # as pickled (or saved with skops) before the parameter existed
    loaded = pickle.loads(pickle.dumps(vgg))
    assert loaded.get_params()["tile_pixels"] is None


# --------------------------------------------------------------------------
# The default tile budget fits a laptop


#: Peak RSS of one process (TensorFlow included) the CPU default must stay under.
LAPTOP_GIB = 2.5


@pytest.mark.slow
@pytest.mark.tf
def test_the_default_tile_budget_keeps_a_sem_micrograph_under_a_laptops_share(tmp_path):
    """A 1600 x 1200 micrograph through the five paper layers, default settings, in a
    fresh process: peak RSS <= 2.5 GiB. With the former default (2**21) it went
    untiled and peaked at 3.0 GiB; measured on larger images (3000 x 3000,
    6000 x 6000) by benchmarks/bench_tiling.py, about 30 s here."""
    import importlib.util
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from sklearn_cnntexture.features import _backbone

    bench = Path(__file__).parents[1] / "benchmarks" / "bench_tiling.py"
    spec = importlib.util.spec_from_file_location("bench_tiling", bench)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.TARGET_GIB == LAPTOP_GIB
    path = tmp_path / "sem.png"
    module.write_micrograph(path, (1200, 1600))
    out = subprocess.run(
        [sys.executable, str(bench), "--child", str(path), "default", "--weights", "none"],
        # On a CPU: this is the CPU's default (a GPU's is larger, in its own memory).
        capture_output=True, text=True, check=True, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
    )
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    assert measured["tile_pixels"] == _backbone.CPU_TILE_PIXELS
    assert measured["finite"]
    assert measured["peak_rss_gib"] <= LAPTOP_GIB, measured
