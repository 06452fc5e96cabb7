"""The per-image cache: same features as without it, one forward pass per image, no stale hits."""

import functools
import threading
import warnings

import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sklearn_cnntexture import (
    PAPER_LAYERS,
    GramEncoder,
    MaxPool,
    MeanPool,
    MultiLayerUnion,
    VGGLayerTransformer,
    VLADEncoder,
    backbone_image_count,
)
from sklearn_cnntexture.features import _cache
from sklearn_cnntexture.features.weights import weights_fingerprint
from sklearn_cnntexture.study import make_study

LAYERS = [*PAPER_LAYERS, "image"]


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    return list(rng.random((6, 32, 40)).astype(np.float32))


def vgg(layers, cache=None, **params):
    return VGGLayerTransformer(layers, weights=None, random_state=0, cache=cache, **params)


def count(fn):
    """Images sent through the backbone while ``fn()`` runs."""
    before = backbone_image_count()
    fn()
    return backbone_image_count() - before


@pytest.mark.parametrize(
    "encoder",
    [MeanPool(), MaxPool(), GramEncoder(), GramEncoder(triangle="full", normalize=False)],
    ids=["mean", "max", "gram", "gram-full-raw"],
)
def test_cached_features_equal_uncached(encoder, images, tmp_path):
    for layer in LAYERS:
        plain = clone(encoder).fit_transform(vgg(layer).transform(images))
        cached_vgg = vgg(layer, tmp_path, cache_layers=LAYERS)
        cached = clone(encoder).fit_transform(cached_vgg.transform(images))
        assert cached.dtype == plain.dtype == np.float32
        np.testing.assert_allclose(cached, plain, rtol=1e-5, atol=1e-6, err_msg=layer)


def test_union_cached_equals_uncached(images, tmp_path):
    plain = MultiLayerUnion().fit_transform(vgg(PAPER_LAYERS).transform(images))
    cached = MultiLayerUnion().fit_transform(vgg(PAPER_LAYERS, tmp_path).transform(images))
    np.testing.assert_allclose(cached, plain, rtol=1e-5, atol=1e-6)


def test_cache_layers_fill_every_layer_in_one_pass(images, tmp_path):
    first = vgg("block1_conv2", tmp_path, cache_layers=PAPER_LAYERS)
    assert count(lambda: MeanPool().fit_transform(first.transform(images))) == len(images)
    for layer in PAPER_LAYERS:  # every other layer and encoder: from the cache
        for encoder in (MeanPool(), MaxPool(), GramEncoder()):
            later = vgg(layer, tmp_path, cache_layers=PAPER_LAYERS)
            acts = later.transform(images)
            assert count(functools.partial(encoder.fit_transform, acts)) == 0


def test_full_grid_sends_each_image_through_the_cnn_once(tmp_path):
    """The issue's count: five layers x mean, max, Gram, with 3 x 3-fold CV."""
    rng = np.random.default_rng(1)
    X = list(rng.random((9, 32, 32)).astype(np.float32))
    y = np.repeat([0, 1, 2], 3)
    search = make_study(
        encoders=["mean", "max", "gram"],
        raw_image=False,
        union=False,
        vgg=VGGLayerTransformer(weights=None, random_state=0, cache=str(tmp_path)),
        n_repeats=3,
        n_estimators=5,
    )
    assert isinstance(search, GridSearchCV)
    n = count(lambda: search.fit(X, y))  # no warm-up: the cache alone does it
    assert len(search.cv_results_["params"]) == 15 and search.n_splits_ == 9
    assert n == len(X)


@pytest.mark.parametrize(
    "change",
    [
        {"random_state": 1},  # other random weights
        {"resize": 24},
        {"crop": 4},
        {"float_scale": 100.0},
    ],
    ids=["weights", "resize", "crop", "float_scale"],
)
def test_a_changed_forward_configuration_misses(change, images, tmp_path):
    base = vgg("block2_conv2", tmp_path)
    before = MeanPool().fit_transform(base.transform(images))
    changed = clone(base).set_params(**change)
    n = count(lambda: MeanPool().fit_transform(changed.transform(images)))
    assert n == len(images)
    # and the original is still served, unchanged
    assert count(lambda: np.testing.assert_array_equal(
        MeanPool().fit_transform(base.transform(images)), before)) == 0


def test_keys_follow_image_content_not_path(tmp_path):
    rng = np.random.default_rng(2)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    Image.fromarray((rng.random((32, 32)) * 255).astype(np.uint8)).save(a)
    b.write_bytes(a.read_bytes())
    transformer = vgg("block1_conv2", tmp_path / "cache")
    assert count(lambda: MeanPool().fit_transform(transformer.transform([str(a)]))) == 1
    # the same bytes under another name: a hit
    assert count(lambda: MeanPool().fit_transform(transformer.transform([str(b)]))) == 0
    # new content under the old name: a miss, and the new features
    Image.fromarray((rng.random((32, 32)) * 255).astype(np.uint8)).save(a)
    fresh = MeanPool().fit_transform(vgg("block1_conv2").transform([str(a)]))
    cached = []
    acts = transformer.transform([str(a)])
    assert count(lambda: cached.append(MeanPool().fit_transform(acts))) == 1
    np.testing.assert_allclose(cached[0], fresh, rtol=1e-6)


def test_weights_file_content_is_part_of_the_key(tmp_path):
    assert weights_fingerprint(("random", 0)) != weights_fingerprint(("random", 1))
    one, two = tmp_path / "one.h5", tmp_path / "two.h5"
    one.write_bytes(b"weights one")
    two.write_bytes(b"weights two")
    fp_one = weights_fingerprint(("file", str(one), 11, 1, 1, 1))
    assert fp_one != weights_fingerprint(("file", str(two), 11, 1, 1, 1))


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    disk = _cache.DiskCache(tmp_path)

    def broken_write_array(f, array, **options):
        f.write(b"half an entry")
        raise KeyboardInterrupt  # killed mid-write

    monkeypatch.setattr(np.lib.format, "write_array", broken_write_array)
    with pytest.raises(KeyboardInterrupt):
        disk.store("ab" * 32, {"x": np.arange(3)})
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert disk.load("ab" * 32, ["x"]) is None


def test_readers_never_see_half_an_entry(tmp_path):
    disk = _cache.DiskCache(tmp_path)
    key, big = "cd" * 32, {"x": np.arange(200_000, dtype=np.float64)}
    seen, stop = [], threading.Event()

    def read():
        while not stop.is_set():
            entry = disk.load(key, ["x"])
            if entry is not None:
                seen.append(np.array_equal(entry["x"], big["x"]))

    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in readers:
        thread.start()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a damaged-entry warning would fail here
        for _ in range(30):
            disk.store(key, big)
    stop.set()
    for thread in readers:
        thread.join()
    assert seen and all(seen)


def test_a_killed_run_resumes_where_it_stopped(images, tmp_path):
    transformer = vgg("block3_conv3", tmp_path)
    MeanPool().fit_transform(transformer.transform(images[:4]))  # "killed" after 4 images
    assert count(lambda: MeanPool().fit_transform(transformer.transform(images))) == 2


def test_a_damaged_entry_is_recomputed_with_a_warning(images, tmp_path):
    transformer = vgg("block1_conv2", tmp_path)
    expected = MeanPool().fit_transform(transformer.transform(images[:1]))
    (entry,) = [p for p in tmp_path.rglob("*.npz")]
    entry.write_bytes(b"not a zip file")
    with pytest.warns(UserWarning, match="recomputing 1 damaged cache entry in"):
        again = MeanPool().fit_transform(transformer.transform(images[:1]))
    np.testing.assert_allclose(again, expected)


def test_many_damaged_entries_are_one_warning(images, tmp_path):
    transformer = vgg("block1_conv2", tmp_path)
    expected = MeanPool().fit_transform(transformer.transform(images[:4]))
    entries = list(tmp_path.rglob("*.npz"))
    assert len(entries) == 4
    for entry in entries:
        entry.write_bytes(b"not a zip file")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = MeanPool().fit_transform(transformer.transform(images[:4]))
    damaged = [w for w in caught if "damaged cache" in str(w.message)]
    assert len(damaged) == 1 and "recomputing 4 damaged cache entries" in str(damaged[0].message)
    np.testing.assert_allclose(again, expected)


def test_vlad_dictionary_comes_from_the_training_images_only(images, tmp_path):
    train = images[:4]
    fresh_cache = vgg("block2_conv2", tmp_path / "fresh")
    shared_cache = vgg("block2_conv2", tmp_path / "shared")
    MeanPool().fit_transform(shared_cache.transform(images))  # cache holds all six images
    a = VLADEncoder(n_words=4, random_state=0).fit(fresh_cache.transform(train))
    b = VLADEncoder(n_words=4, random_state=0).fit(shared_cache.transform(train))
    # equal up to float32 rounding (the two caches saw batches of other sizes)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-5, atol=1e-6)


def test_vlad_codes_are_reused_only_with_the_same_words(images, tmp_path):
    transformer = vgg("block2_conv2", tmp_path)
    acts = transformer.transform(images)
    first = VLADEncoder(n_words=4, random_state=0).fit(acts)
    codes = first.transform(acts)
    assert count(lambda: VLADEncoder(n_words=4, random_state=0).fit(acts).transform(acts)) == 0
    other = VLADEncoder(n_words=4, random_state=1).fit(acts)
    assert not np.array_equal(other.cluster_centers_, first.cluster_centers_)
    assert count(lambda: other.transform(acts)) == len(images)
    # cached codes are the encoder's own codes of the activations
    uncached = first.transform(vgg("block2_conv2").transform(images))
    np.testing.assert_allclose(codes, uncached, rtol=1e-5, atol=1e-6)


def test_a_file_rewritten_with_its_old_mtime_is_not_stale(tmp_path):
    """The in-process memo of file digests cannot be fooled by restoring the mtime."""
    import os

    rng = np.random.default_rng(7)
    path = tmp_path / "a.png"
    Image.fromarray((rng.random((32, 32)) * 255).astype(np.uint8)).save(path)
    transformer = vgg("block1_conv2", tmp_path / "cache")
    first = MeanPool().fit_transform(transformer.transform([str(path)]))
    stat = os.stat(path)
    size = stat.st_size
    while True:  # new pixels, same file size, old mtime put back
        Image.fromarray((rng.random((32, 32)) * 255).astype(np.uint8)).save(path)
        if os.stat(path).st_size == size:
            break
        path.unlink()
        Image.fromarray((rng.random((32, 32)) * 255).astype(np.uint8)).save(path)
        size = os.stat(path).st_size
        first = MeanPool().fit_transform(transformer.transform([str(path)]))
        stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = []
    acts = transformer.transform([str(path)])
    assert count(lambda: again.append(MeanPool().fit_transform(acts))) == 1
    assert not np.allclose(again[0], first)


def test_a_weights_file_rewritten_with_its_old_mtime_gets_a_new_key(tmp_path):
    import os

    from sklearn_cnntexture.features.weights import resolve_weights

    path = tmp_path / "w.h5"
    path.write_bytes(b"weights one")
    stat = os.stat(path)
    key = resolve_weights(str(path), None)
    fingerprint = weights_fingerprint(key)
    path.write_bytes(b"weights two")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert resolve_weights(str(path), None) != key  # so no process reuses the old network
    assert weights_fingerprint(resolve_weights(str(path), None)) != fingerprint


def test_an_entry_copied_under_another_key_is_recomputed(images, tmp_path):
    """A valid entry of another image (or layer) swapped in is noticed, never served."""
    transformer = vgg("block2_conv2", tmp_path)
    expected = MeanPool().fit_transform(transformer.transform(images[:2]))
    entries = sorted(tmp_path.rglob("*.npz"))
    assert len(entries) == 2
    entries[1].write_bytes(entries[0].read_bytes())  # image 1's entry now holds image 0's
    with pytest.warns(UserWarning, match="another key"):
        got = MeanPool().fit_transform(transformer.transform(images[:2]))
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_descriptors_are_stored_deflated_and_the_rest_as_is(images, tmp_path):
    import zipfile

    vgg("block2_conv2", tmp_path).transform(images[:1]).precompute()
    (entry,) = tmp_path.rglob("*.npz")
    with zipfile.ZipFile(entry) as archive:
        kinds = {info.filename: info.compress_type for info in archive.infolist()}
    assert kinds.pop("descriptors.npy") == zipfile.ZIP_DEFLATED
    assert set(kinds.values()) == {zipfile.ZIP_STORED}
    assert {"mean.npy", "max.npy", "gram.npy", "n_locations.npy"} <= set(kinds)


def test_fields_at_their_default_stay_out_of_the_key():
    """So a preprocessing field added later leaves the entries already cached valid."""
    from sklearn_cnntexture.features._activations import Preprocessing

    assert Preprocessing(("random", 0)).fingerprint() == {"weights": "random-0"}
    changed = Preprocessing(("random", 0), resize=(24, 24), float_scale=1.0).fingerprint()
    assert changed == {"weights": "random-0", "resize": (24, 24), "float_scale": 1.0}


def test_statistics_run_blas_on_one_thread_between_forward_passes(images, tmp_path,
                                                                   monkeypatch):
    """OpenBLAS's workers busy-wait after each call: on as many threads as cores, the
    statistics between two forward passes took the cores from the network's next pass."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from sklearn_cnntexture.features import _stats

    with threadpool_limits(limits=2, user_api="blas"):  # as on any machine of 2 cores or more
        seen = []
        real = _stats.Accumulator.add

        def add(self, block, top=0, left=0):
            seen.append({lib["num_threads"] for lib in threadpool_info()
                         if lib["user_api"] == "blas"})
            return real(self, block, top, left)

        monkeypatch.setattr(_stats.Accumulator, "add", add)
        vgg(["block1_conv2", "block2_conv2"], tmp_path).transform(images[:2]).precompute()
        assert len(seen) == 2 * 2 and all(threads == {1} for threads in seen), seen
        # and the process's own setting is back afterwards
        assert {lib["num_threads"] for lib in threadpool_info()
                if lib["user_api"] == "blas"} == {2}


@pytest.mark.parametrize("n_locations", [1, 63, 64, 65, 64 * 5 + 17])
def test_statistics_reduce_folded_locations_exactly(n_locations):
    """Sums and maxima over locations, folded 64 rows at a time for speed, are numpy's."""
    from sklearn_cnntexture.features import _stats

    rng = np.random.default_rng(n_locations)
    block = np.maximum(rng.standard_normal((n_locations, 1, 3), dtype=np.float32), 0)
    accumulator = _stats.Accumulator(("mean", "max"), (n_locations, 1))
    accumulator.add(block)
    result = accumulator.result()
    F = block.reshape(-1, 3)
    np.testing.assert_array_equal(result["max"], F.max(axis=0))
    np.testing.assert_array_equal(result["mean"], F.mean(axis=0, dtype=np.float64)
                                  .astype(np.float32))
