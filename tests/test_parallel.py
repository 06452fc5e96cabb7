"""Forward passes on joblib workers and on a Dask cluster: same results, each image once."""

import contextlib

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_cnntexture import MeanPool, VGGLayerTransformer, VLADEncoder, backbone_image_count
from sklearn_cnntexture.features import parallel
from sklearn_cnntexture.features.featurize import featurize, featurize_to_parquet
from sklearn_cnntexture.study import fill_cache, make_study, study_results

LAYERS = ["block1_conv2", "block2_conv2"]


@pytest.fixture(scope="module")
def images():
    return list(np.random.default_rng(0).random((12, 32, 32)).astype(np.float32))


def vgg(**params):
    return VGGLayerTransformer(LAYERS, weights=None, random_state=0, **params)


def test_chunks_cover_every_item_once():
    parts = parallel.chunks(10, n_jobs=2)
    assert [i for part in parts for i in range(part.start, part.stop)] == list(range(10))
    assert len(parts) == 5  # about four per worker
    assert parallel.chunks(10, chunk_size=4) == [slice(0, 4), slice(4, 8), slice(8, 10)]


@pytest.mark.parametrize("call, parameter", [
    (lambda: parallel.chunks(-1), "n_items"),
    (lambda: parallel.chunks(10, n_jobs=1.5), "n_jobs"),
    (lambda: parallel.chunks(10, chunk_size=0), "chunk_size"),
    (lambda: parallel.precompute("block1_conv2", []), "vgg"),
    (lambda: parallel.transform(object(), []), "estimator"),
    (lambda: parallel.transform(MeanPool(), [], verbose="yes"), "verbose"),
    (lambda: parallel.dask_client(8786), "address"),
    (lambda: parallel.dask_client("tcp://127.0.0.1:8786", timeout=0), "timeout"),
])
def test_wrong_argument_types_and_ranges_name_the_parameter(call, parameter):
    with pytest.raises(InvalidParameterError, match=f"^The '{parameter}' parameter of "):
        call()


def test_precompute_checks_its_arguments_before_the_network(tmp_path):
    with pytest.raises(InvalidParameterError, match="^The 'maps' parameter of precompute"):
        parallel.precompute(vgg(cache=tmp_path), [], maps=3)
    with pytest.raises(InvalidParameterError, match="^The 'description' parameter of precompute"):
        parallel.precompute(vgg(cache=tmp_path), [], description=1)


def test_precompute_on_two_workers_forwards_each_image_once(images, tmp_path):
    before = backbone_image_count()
    assert parallel.precompute(vgg(cache=tmp_path), images, n_jobs=2) == len(images)
    assert backbone_image_count() == before  # all of it in the workers
    assert parallel.precompute(vgg(cache=tmp_path), images, n_jobs=2) == 0  # all cached
    assert parallel.precompute(vgg(cache=tmp_path), images) == 0  # and in this process


def test_precompute_needs_a_cache(images):
    with pytest.raises(ValueError, match="needs a cache"):
        parallel.precompute(vgg(), images)


@pytest.mark.parametrize(
    "encoder", ["mean", "gram", VLADEncoder(n_words=4, random_state=0)], ids=str
)
def test_featurize_on_workers_equals_featurize_here(encoder, images):
    here = featurize(images, vgg(), encoder)
    there = featurize(images, vgg(), encoder, n_jobs=2, chunk_size=5)
    pd.testing.assert_frame_equal(here, there, rtol=1e-5)


def test_partitioned_parquet_reads_back_as_the_table(images, tmp_path):
    folder = tmp_path / "features.parquet"
    labels = [f"c{i % 3}" for i in range(len(images))]
    parts = featurize_to_parquet(images, folder, vgg(), "mean", columns={"label": labels},
                                 chunk_size=5, n_jobs=2)
    assert [p.name for p in parts] == ["part-00000.parquet", "part-00001.parquet",
                                       "part-00002.parquet"]
    assert (folder / "_provenance.json").is_file()
    table = pd.read_parquet(folder)
    expected = featurize(images, vgg(), "mean")
    expected.insert(1, "label", labels)
    pd.testing.assert_frame_equal(table, expected, check_dtype=False, rtol=1e-5)
    # A rerun replaces the parts this function wrote, and nothing else.
    again = featurize_to_parquet(images, folder, vgg(), "mean", chunk_size=len(images))
    assert [p.name for p in again] == ["part-00000.parquet"]
    assert sorted(p.name for p in folder.iterdir()) == ["_provenance.json", again[0].name]
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="notes.txt"):
        featurize_to_parquet(images, folder, vgg(), "mean")


@pytest.mark.slow
def test_a_dask_cluster_gives_the_serial_results_forwarding_each_image_once(images, tmp_path):
    distributed = pytest.importorskip("distributed")
    y = np.repeat([0, 1, 2], 4)

    def study(cache):
        return make_study(
            vgg=vgg(cache=str(cache)), layers=LAYERS, encoders=["mean", "gram", "vlad"],
            raw_image=False, n_repeats=1, n_estimators=10, vlad_resize=None,
        )

    serial = study(tmp_path / "serial")
    before = backbone_image_count()
    fill_cache(serial, images, y, verbose=False)
    serial_forwarded = backbone_image_count() - before
    serial.fit(images, y)
    serial_features = featurize(images, vgg(), "gram")

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client, joblib.parallel_backend("dask"):
        search = study(tmp_path / "cluster")
        before = backbone_image_count()
        fill_cache(search, images, y, verbose=False)
        search.fit(images, y)
        features = featurize(images, vgg(), "gram")
        assert backbone_image_count() == before  # nothing ran here
        on_workers = sum(client.run(backbone_image_count).values())
    # The cache fill: each image once for the statistics, once for VLAD's codes;
    # the grid: nothing (all cached); featurize: each image once.
    assert on_workers == serial_forwarded + len(images)
    timing_and_objects = ["fit_score_s_per_fold", "params"]
    pd.testing.assert_frame_equal(study_results(search).drop(columns=timing_and_objects),
                                  study_results(serial).drop(columns=timing_and_objects))
    pd.testing.assert_frame_equal(features, serial_features, rtol=1e-5)


def _labelled_folder(root):
    from PIL import Image

    rng = np.random.default_rng(1)
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(3):
            pixels = (rng.random((32, 32)) * 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


@pytest.mark.tf  # the network runs behind cli.main's strings
def test_cli_featurize_on_workers_and_partitioned(tmp_path):
    from sklearn_cnntexture import cli

    data = _labelled_folder(tmp_path / "data")
    args = ["featurize", str(data), "--layers", "C1_2", "--weights", "hed-bsds500"]
    assert cli.main([*args, "--out", str(tmp_path / "one.csv")]) == 0
    assert cli.main([*args, "--out", str(tmp_path / "two.csv"), "--n-jobs", "2",
                     "--chunk-size", "2"]) == 0
    one, two = pd.read_csv(tmp_path / "one.csv"), pd.read_csv(tmp_path / "two.csv")
    pd.testing.assert_frame_equal(one, two, rtol=1e-5)
    assert cli.main([*args, "--out", str(tmp_path / "parts.parquet"), "--partitioned",
                     "--chunk-size", "4"]) == 0
    parts = pd.read_parquet(tmp_path / "parts.parquet")
    assert sorted(p.name for p in (tmp_path / "parts.parquet").glob("part-*")) == [
        "part-00000.parquet", "part-00001.parquet"]
    pd.testing.assert_frame_equal(parts, one, check_dtype=False, rtol=1e-5)


def test_cli_partitioned_needs_parquet_and_an_unreachable_scheduler_is_one_line(
        tmp_path, capsys):
    from sklearn_cnntexture import cli

    data = _labelled_folder(tmp_path / "data")
    before = backbone_image_count()
    args = ["featurize", str(data), "--weights", "hed-bsds500", "--layers", "C1_2"]
    assert cli.main([*args, "--out", str(tmp_path / "f.csv"), "--partitioned"]) == 2
    assert "--partitioned writes a Parquet folder" in capsys.readouterr().err
    assert cli.main([*args, "--out", str(tmp_path / "f.csv"),
                     "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--scheduler tcp://127.0.0.1:9" in err and len(err.splitlines()) == 1
    assert backbone_image_count() == before


# --- dask_client: an address that is not a scheduler is one line, quickly ---

@contextlib.contextmanager
def _listening(banner=None):
    """The address of a socket on 127.0.0.1 that accepts, then sends ``banner`` or stays silent."""
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # closed by the test
                return
            accepted.append(conn)
            if banner is not None:
                conn.sendall(banner)

    threading.Thread(target=serve, daemon=True).start()
    try:
        with server:
            yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        for conn in accepted:
            conn.close()


def _closed_port():
    import socket

    with socket.create_server(("127.0.0.1", 0)) as server:
        return server.getsockname()[1]  # free once closed: nothing listens


def _error_within(seconds, address, timeout):
    """The ValueError of ``dask_client(address)``, failing if it takes over ``seconds``."""
    import threading
    import time

    result = {}

    def connect():
        start = time.monotonic()
        try:
            with parallel.dask_client(address, timeout=timeout):
                result["error"] = None
        except ValueError as exc:
            result["error"] = exc
        result["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=connect, daemon=True)  # a hang fails, not blocks
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"dask_client({address!r}) still waiting after {seconds} s"
    assert result["error"] is not None, "connected to something that is not a scheduler"
    message = str(result["error"])
    assert address in message and len(message.splitlines()) == 1
    return message, result["seconds"]


def test_dask_client_refuses_a_closed_port_at_once():
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{_closed_port()}"
    message, seconds = _error_within(5, address, timeout=3)
    assert "nothing listens there" in message
    assert seconds < 1  # Client alone retries for its whole timeout


def test_dask_client_gives_up_on_a_silent_peer_after_its_timeout():
    pytest.importorskip("distributed")
    with _listening() as address:
        message, seconds = _error_within(10, address, timeout=1)
    assert "no answer within 1 s: not a Dask scheduler" in message
    assert 0.9 < seconds < 4  # Client alone waits forever in its handshake


@pytest.mark.parametrize("banner", [b"SSH-2.0-OpenSSH_9.6\r\n",
                                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"],
                         ids=["ssh", "http"])
def test_dask_client_names_a_peer_that_speaks_something_else(banner):
    pytest.importorskip("distributed")
    with _listening(banner) as address:
        message, seconds = _error_within(10, address, timeout=3)
    # Client alone reads the banner as a frame length: "Unable to allocate 2.82 EiB".
    assert "something answers there but it is not a Dask scheduler" in message
    assert "EiB" not in message
    assert seconds < 4


def test_dask_client_names_a_malformed_address():
    pytest.importorskip("distributed")
    with pytest.raises(ValueError, match=r"^--scheduler http://127.0.0.1:8786: not a Dask "
                                         r"address .*unknown scheme 'http'"):
        with parallel.dask_client("http://127.0.0.1:8786", name="--scheduler"):
            pass


def test_dask_client_connects_to_a_scheduler_and_sends_joblib_there():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tcp", dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        with parallel.dask_client(cluster.scheduler_address) as client:
            assert client.status == "running"
            backend, _ = joblib.parallel.get_active_backend()
            assert type(backend).__name__ == "DaskDistributedBackend"
            assert joblib.Parallel()(joblib.delayed(abs)(-i) for i in range(3)) == [0, 1, 2]
        assert client.status == "closed"
        worker = next(iter(cluster.workers.values())).address
        message, _ = _error_within(10, worker, timeout=3)
        assert "a Dask Worker answers there, not a Dask scheduler" in message
