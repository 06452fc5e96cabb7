"""Tests for sklearn_cnntexture.io.datasets: the shipped UHCS sample and load_image_dataset."""

import doctest
import pathlib
import re
import warnings
from collections import Counter

import numpy as np
import pytest
import tifffile
from PIL import Image
from sklearn.utils import Bunch
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_cnntexture.io import DataWarning, datasets, list_image_files, read_image
from sklearn_cnntexture.io.datasets import (
    OUTPUT_MARKER,
    is_inside,
    load_image_dataset,
    load_images_to_predict,
    load_uhcs_sample,
    mark_output_folder,
)

CLASSES = ["network", "pearlite", "spheroidite"]


@pytest.fixture(scope="module")
def sample():
    return load_uhcs_sample()


def test_bunch_fields(sample):
    assert isinstance(sample, Bunch)
    assert sample.filenames.shape == (36,) and sample.target.shape == (36,)
    assert sample.filenames.dtype.kind == "U" and sample.target.dtype.kind == "U"
    assert sample.target_names == CLASSES
    assert sample.frame is None
    assert "CC BY 3.0 US" in sample.DESCR and "DeCost" in sample.DESCR


def test_three_classes_of_twelve(sample):
    assert Counter(sample.target.tolist()) == {name: 12 for name in CLASSES}


def test_paths_are_absolute_files_and_labels_match_folders(sample):
    for filename, label in zip(sample.filenames, sample.target):
        path = pathlib.Path(filename)
        assert path.is_absolute() and path.is_file()
        assert path.parent.name == label


def test_order_is_class_then_natural(sample):
    folder = pathlib.Path(sample.filenames[0]).parents[1]
    expected = [str(p) for name in CLASSES for p in list_image_files(folder / name)]
    assert sample.filenames.tolist() == expected  # also: no unlisted images on disk
    assert pathlib.Path(sample.filenames[2]).name == "micrograph2.jpg"
    assert pathlib.Path(sample.filenames[10]).name == "micrograph10.jpg"


def test_all_images_readable(sample):
    for filename in sample.filenames:
        image = read_image(filename)
        assert image.dtype == np.uint8 and image.shape == (475, 645)


def test_sample_stays_small(sample):
    folder = pathlib.Path(sample.filenames[0]).parents[1]
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert total <= 5 * 1024 * 1024


def test_return_X_y(sample):
    filenames, target = load_uhcs_sample(return_X_y=True)
    np.testing.assert_array_equal(filenames, sample.filenames)
    np.testing.assert_array_equal(target, sample.target)


def test_as_frame(sample):
    pd = pytest.importorskip("pandas")
    data = load_uhcs_sample(as_frame=True)
    assert isinstance(data.frame, pd.DataFrame)
    assert list(data.frame.columns) == ["path", "label"] and len(data.frame) == 36
    assert data.frame["path"].tolist() == sample.filenames.tolist()
    assert data.frame["label"].tolist() == sample.target.tolist()
    X, y = load_uhcs_sample(as_frame=True, return_X_y=True)
    assert isinstance(X, pd.Series) and isinstance(y, pd.Series)
    assert y.tolist() == sample.target.tolist()


def test_docstring_examples_run():
    result = doctest.testmod(datasets, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------
# load_image_dataset: folders


def write_image(path, kind="png"):
    """Write a tiny real image file of the given kind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.arange(48, dtype=np.uint8).reshape(6, 8)
    if kind == "tif8":
        tifffile.imwrite(path, pixels)
    elif kind == "tif16":
        tifffile.imwrite(path, pixels.astype(np.uint16) * 1000)
    else:
        Image.fromarray(pixels).save(path)  # the suffix picks PNG, JPEG or BMP
    return path


@pytest.fixture
def class_folder(tmp_path):
    root = tmp_path / "data"
    write_image(root / "pearlite" / "img10.png")
    write_image(root / "pearlite" / "img2.jpg")
    write_image(root / "pearlite" / "img1.tif", "tif16")
    write_image(root / "network" / "b.tiff", "tif8")
    write_image(root / "network" / "a.JPEG")
    (root / "network" / "notes.txt").write_text("not an image, ignored")
    (root / "labels.csv").write_text("file,class\na,b\n")  # ignored in a folder source
    (root / "README.txt").write_text("ignored")
    write_image(root / ".thumbnails" / "x.png")  # hidden: not a class
    write_image(root / "__MACOSX" / "x.png")
    return root


def relative(data, root):
    return [pathlib.Path(f).relative_to(root).as_posix() for f in data.filenames]


def test_folder_layout(class_folder):
    data = load_image_dataset(class_folder)
    assert isinstance(data, Bunch)
    assert relative(data, class_folder) == [
        "network/a.JPEG", "network/b.tiff",
        "pearlite/img1.tif", "pearlite/img2.jpg", "pearlite/img10.png",
    ]
    assert data.target.tolist() == ["network"] * 2 + ["pearlite"] * 3
    assert data.filenames.dtype.kind == "U" and data.target.dtype.kind == "U"
    assert data.target_names.tolist() == ["network", "pearlite"]
    assert data.groups is None and data.task == "classification"
    assert data.source == str(class_folder)
    assert all(pathlib.Path(f).is_absolute() for f in data.filenames)


def test_folder_frame(class_folder):
    pd = pytest.importorskip("pandas")
    data = load_image_dataset(class_folder)
    assert isinstance(data.frame, pd.DataFrame)
    assert list(data.frame.columns) == ["path", "label"]
    assert data.frame["path"].tolist() == data.filenames.tolist()


def test_relative_source_gives_absolute_paths(class_folder, monkeypatch):
    monkeypatch.chdir(class_folder.parent)
    data = load_image_dataset("data")
    assert data.source == str(class_folder)
    assert data.filenames[0] == str(class_folder / "network" / "a.JPEG")


def test_single_class_and_tiny_classes_are_not_errors(tmp_path):
    write_image(tmp_path / "only" / "a.png")
    data = load_image_dataset(tmp_path)
    assert data.target_names.tolist() == ["only"] and len(data.filenames) == 1


def test_folder_paths_read_back(class_folder):
    for filename in load_image_dataset(class_folder).filenames:
        assert read_image(filename).shape == (6, 8)


def test_images_next_to_class_folders(class_folder):
    write_image(class_folder / "stray.png")
    with pytest.raises(ValueError, match=r"image files directly inside it \('stray\.png'\).*"
                                         r"one sub-folder per class"):
        load_image_dataset(class_folder)


def test_flat_folder_of_images(tmp_path):
    for i in range(7):
        write_image(tmp_path / f"img{i}.png")
    with pytest.raises(ValueError, match=r"'img0\.png', .* and 2 more.*sub-folder per class"):
        load_image_dataset(tmp_path)


def test_empty_folder(tmp_path):
    with pytest.raises(ValueError, match=r"no class sub-folders \(the folder is empty\)") \
            as excinfo:
        load_image_dataset(tmp_path)
    assert str(excinfo.value).startswith(f"'{tmp_path}'") and "\n" not in str(excinfo.value)


def test_folder_without_class_folders(tmp_path):
    (tmp_path / "labels.csv").write_text("path,label\n")
    (tmp_path / ".git").mkdir()
    with pytest.raises(ValueError, match=r"no class sub-folders \(found only '\.git', "
                                         r"'labels\.csv'\); expected a folder"):
        load_image_dataset(tmp_path)


def test_class_folder_without_images(class_folder):
    (class_folder / "empty").mkdir()
    write_image(class_folder / "nested" / "deeper" / "a.png")  # images must be direct
    with pytest.raises(ValueError, match=r"no image files: '.*empty', '.*nested'"):
        load_image_dataset(class_folder)


def test_broken_link_in_class_folder_is_reported(class_folder):
    link = class_folder / "network" / "moved.png"
    link.symlink_to(class_folder.parent / "elsewhere" / "moved.png")
    pattern = (r"^1 symbolic link\(s\) in '" + re.escape(str(class_folder / "network"))
               + r"' point to missing files: '" + re.escape(str(link)) + "' -> ")
    with pytest.raises(FileNotFoundError, match=pattern) as excinfo:
        load_image_dataset(class_folder)
    assert "\n" not in str(excinfo.value)


def test_broken_link_as_class_folder_is_reported(class_folder):
    (class_folder / "ferrite").symlink_to(class_folder.parent / "unmounted" / "ferrite")
    match = r"in '.*data' point to missing files: '.*ferrite'"
    with pytest.raises(FileNotFoundError, match=match):
        load_image_dataset(class_folder)


def test_good_links_are_followed(class_folder, tmp_path):
    elsewhere = write_image(tmp_path / "store" / "c.png")
    (class_folder / "network" / "c.png").symlink_to(elsewhere)
    (class_folder / "linked").symlink_to(tmp_path / "store", target_is_directory=True)
    data = load_image_dataset(class_folder)
    assert "network/c.png" in relative(data, class_folder)
    assert "linked/c.png" in relative(data, class_folder)


def test_broken_link_in_csv_is_reported_like_in_a_folder(class_folder):
    link = class_folder / "network" / "moved.png"
    link.symlink_to(class_folder.parent / "elsewhere" / "moved.png")
    csv_path = write_csv(class_folder / "l.csv", "path,label\nnetwork/moved.png,network\n")
    with pytest.raises(FileNotFoundError, match=r"missing: '" + re.escape(str(link))):
        load_image_dataset(csv_path)


def test_missing_source(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"not found: '.*nowhere'; expected a folder"):
        load_image_dataset(tmp_path / "nowhere")


def test_source_not_a_path():
    with pytest.raises(TypeError, match=r"'source' parameter of load_image_dataset must be an "
                       r"instance of 'str' or an instance of 'os.PathLike'. Got \['a.png'\]"):
        load_image_dataset(["a.png"])
    with pytest.raises(InvalidParameterError, match="'source' parameter of load_images_to"):
        load_images_to_predict(b"a.png")
    with pytest.raises(InvalidParameterError, match="'check_files' parameter of load_image_data"):
        load_image_dataset("data", check_files="no")


def test_source_file_not_csv(tmp_path):
    path = write_image(tmp_path / "a.png")
    with pytest.raises(ValueError, match=r"'.*a\.png' is a file but not a \.csv file"):
        load_image_dataset(path)


# --------------------------------------------------------------------------
# load_image_dataset: CSV files


def write_csv(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_relative_and_absolute_paths_in_row_order(class_folder, tmp_path):
    elsewhere = write_image(tmp_path / "other" / "x.bmp")
    csv_path = write_csv(class_folder / "set.csv", (
        "path,label,comment\n"
        "pearlite/img10.png,pearlite,first\n"
        f"{elsewhere},network,absolute\n"
        " network/a.JPEG , network ,spaces are stripped\n"
        "./pearlite/../pearlite/img2.jpg,pearlite,\n"
    ))
    data = load_image_dataset(csv_path)
    assert data.filenames.tolist() == [
        str(class_folder / "pearlite" / "img10.png"), str(elsewhere),
        str(class_folder / "network" / "a.JPEG"), str(class_folder / "pearlite" / "img2.jpg"),
    ]
    assert data.target.tolist() == ["pearlite", "network", "network", "pearlite"]
    assert data.target_names.tolist() == ["network", "pearlite"]
    assert data.task == "classification" and data.groups is None
    assert data.source == str(csv_path)


def test_csv_in_another_folder_resolves_against_the_csv(class_folder, tmp_path, monkeypatch):
    csv_path = write_csv(tmp_path / "lists" / "set.csv",
                         "path,label\n../data/network/a.JPEG,network\n")
    monkeypatch.chdir(class_folder / "pearlite")  # the working directory plays no part
    data = load_image_dataset(csv_path)
    assert data.filenames.tolist() == [str(class_folder / "network" / "a.JPEG")]


def test_csv_groups_and_numeric_target(class_folder):
    csv_path = write_csv(class_folder / "hardness.csv", (
        "\ufeffpath,target,group\n"  # a byte-order mark, as Excel writes
        "network/a.JPEG,412.5,A\n"
        "network/b.tiff,-3e2,A\n"
        "pearlite/img1.tif,7,B\n"
    ))
    data = load_image_dataset(csv_path)
    assert data.task == "regression" and data.target_names is None
    assert data.target.dtype == np.float64 and data.target.tolist() == [412.5, -300.0, 7.0]
    assert data.groups.tolist() == ["A", "A", "B"]
    pd = pytest.importorskip("pandas")
    assert isinstance(data.frame, pd.DataFrame)
    assert list(data.frame.columns) == ["path", "target", "group"]
    assert data.frame["target"].tolist() == [412.5, -300.0, 7.0]


def test_csv_groups_with_labels(class_folder):
    csv_path = write_csv(class_folder / "g.csv", "group,label,path\n"
                         "1,network,network/a.JPEG\n2,pearlite,pearlite/img2.jpg\n")
    data = load_image_dataset(csv_path)
    assert data.groups.tolist() == ["1", "2"] and data.target.tolist() == ["network", "pearlite"]
    if data.frame is not None:
        assert list(data.frame.columns) == ["path", "label", "group"]


@pytest.mark.parametrize("header", ["file,class", "path,comment", "label,target", "path",
                                    "path,label,target"])
def test_csv_missing_or_ambiguous_columns_lists_columns_found(class_folder, header):
    csv_path = write_csv(class_folder / "bad.csv", header + "\n")
    found = re.escape(str(header.split(",")))
    with pytest.raises(ValueError, match=r"needs a 'path' column .* found columns: " + found):
        load_image_dataset(csv_path)


def test_csv_not_utf8(class_folder):
    csv_path = class_folder / "latin1.csv"
    csv_path.write_bytes("path,label\nnetwork/a.JPEG,perlit\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1\.csv' is not UTF-8"):
        load_image_dataset(csv_path)


def test_csv_duplicate_column(class_folder):
    csv_path = write_csv(class_folder / "bad.csv", "path,label,label\na.png,x,y\n")
    with pytest.raises(ValueError, match="'label' appear more than once"):
        load_image_dataset(csv_path)


@pytest.mark.parametrize(
    "text, problem",
    [("", "is empty; its first line must be a header with a 'path' column"),
     ("\ufeff", "is empty"),  # Excel's byte-order mark alone
     ("\n\n  \n", "is empty"),
     ("path,label\n", "has a header but no rows; add one line per image"),
     ("path,label\n\n\n", "has a header but no rows"),
     ("\npath,label\nnetwork/a.JPEG,network\n", "starts with a blank line; its first line")],
    ids=["empty-file", "bom-only", "blank-lines-only", "header-only", "header-blank-lines",
         "blank-first-line"],
)
def test_csv_without_rows_is_one_clear_line(class_folder, text, problem):
    csv_path = class_folder / "empty.csv"
    csv_path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=f"^CSV file '{re.escape(str(csv_path))}' {problem}") \
            as excinfo:
        load_image_dataset(csv_path)
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize("value", ["hard", "", "nan", "inf"])
def test_csv_non_numeric_target_names_the_line(class_folder, value):
    csv_path = write_csv(class_folder / "t.csv",
                         f"path,target\nnetwork/a.JPEG,1.5\nnetwork/b.tiff,{value}\n")
    with pytest.raises(ValueError, match=r"t\.csv', line 3: .*(target|'target' cell is empty)"):
        load_image_dataset(csv_path)


@pytest.mark.parametrize("row", [",network", "network/a.JPEG,", "network/a.JPEG"],
                         ids=["path", "label", "short-row"])
def test_csv_empty_cell_names_line_and_column(class_folder, row):
    csv_path = write_csv(class_folder / "c.csv", f"path,label\n{row}\n")
    with pytest.raises(ValueError, match=r"c\.csv', line 2: the '(path|label)' cell is empty"):
        load_image_dataset(csv_path)


def test_csv_duplicate_paths(class_folder):
    csv_path = write_csv(class_folder / "d.csv", (
        "path,label\nnetwork/a.JPEG,network\npearlite/img2.jpg,pearlite\n"
        f"{class_folder / 'network' / 'a.JPEG'},network\n"
    ))
    with pytest.raises(ValueError, match=r"more than once: '.*a\.JPEG \(lines 2, 4\)'"):
        load_image_dataset(csv_path)


def test_csv_missing_files_named(class_folder):
    rows = "".join(f"network/gone{i}.png,network\n" for i in range(8))
    csv_path = write_csv(class_folder / "m.csv", "path,label\nnetwork/a.JPEG,network\n" + rows)
    with pytest.raises(FileNotFoundError,
                       match=r"8 of the 9 images .* missing: '.*gone0\.png', .* and 3 more"):
        load_image_dataset(csv_path)


def test_csv_directory_listed_is_a_folder_not_missing(class_folder):
    csv_path = write_csv(class_folder / "m.csv", "path,label\nnetwork,network\n"
                         "pearlite/img2.jpg,pearlite\n")
    with pytest.raises(ValueError, match=r"^1 of the 2 paths listed in '.*m\.csv' is a folder, "
                       r"not an image: '.*network'; list one image file per line$"):
        load_image_dataset(csv_path)
    with pytest.raises(ValueError, match="is a folder, not an image"):
        load_images_to_predict(csv_path)


# --------------------------------------------------------------------------
# load_image_dataset: check_files


def test_check_files_reports_bad_files_by_name(class_folder):
    (class_folder / "network" / "fake.png").write_text("not an image")
    (class_folder / "network" / "empty.jpg").write_bytes(b"")
    tifffile.imwrite(class_folder / "pearlite" / "stack.tif", np.zeros((3, 4, 4), np.uint8),
                     photometric="minisblack")
    with pytest.raises(ValueError) as info:
        load_image_dataset(class_folder)
    message = str(info.value)
    assert message.startswith("3 of the 8 files cannot be read as images")
    assert "empty.jpg': the file is empty" in message
    assert "fake.png'" in message
    assert "stack.tif' has 3 pages" in message
    data = load_image_dataset(class_folder, check_files=False)  # streaming, unchecked
    assert len(data.filenames) == 8


def test_check_files_lists_the_first_few(tmp_path):
    for i in range(7):
        (tmp_path / "a" / f"bad{i}.png").parent.mkdir(exist_ok=True)
        (tmp_path / "a" / f"bad{i}.png").write_text("x")
    with pytest.raises(ValueError, match=r"7 of the 7 files(.|\n)*bad4\.png(.|\n)*and 2 more"):
        load_image_dataset(tmp_path)


def test_check_files_in_csv(class_folder):
    (class_folder / "network" / "fake.tif").write_text("not a tiff")
    csv_path = write_csv(class_folder / "f.csv", "path,label\nnetwork/fake.tif,network\n")
    with pytest.raises(ValueError, match=r"cannot read image file '.*fake\.tif'"):
        load_image_dataset(csv_path)


def test_check_files_reads_no_pixels(class_folder, monkeypatch):
    # Header checks must not decode images: make decoding fail loudly.
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("pixels decoded"))
    monkeypatch.setattr(tifffile.TiffPage, "asarray",
                        lambda self, *a, **k: pytest.fail("pixels decoded"))
    assert len(load_image_dataset(class_folder).filenames) == 5


# --------------------------------------------------------------------------
# load_image_dataset: real data sets


SHARED = pathlib.Path(__file__).parents[2] / "shared" / "data"


@pytest.mark.realdata
@pytest.mark.parametrize("name, counts", [
    ("uhcs-mft3", {"network": 200, "pearlite": 200, "spheroidite": 200}),
    ("neu-det", {c: 300 for c in ["crazing", "inclusion", "patches", "pitted_surface",
                                  "rolled-in_scale", "scratches"]}),
])
def test_real_data_sets(name, counts):
    if not (SHARED / name).is_dir():
        pytest.skip(f"../shared/data/{name} is absent")
    data = load_image_dataset(SHARED / name)
    assert Counter(data.target.tolist()) == counts
    assert data.target_names.tolist() == sorted(counts)
    assert all(pathlib.Path(f).suffix == ".jpg" for f in data.filenames)
    numbers = [int(re.findall(r"\d+", pathlib.Path(f).stem)[-1]) for f in data.filenames[:50]]
    assert numbers == sorted(numbers)  # natural order within the first class


@pytest.mark.realdata
def test_uhcs_labels_csv_is_not_a_data_set_csv():
    path = SHARED / "uhcs-mft3" / "labels.csv"
    if not path.is_file():
        pytest.skip("../shared/data/uhcs-mft3 is absent")
    with pytest.raises(ValueError, match=r"found columns: \['file', 'class_label_from_repo'"):
        load_image_dataset(path)


# --------------------------------------------------------------------------
# Outputs are never data: OUTPUT_MARKER, mark_output_folder, is_inside


def test_mark_output_folder_creates_and_marks(tmp_path):
    out = mark_output_folder(tmp_path / "runs" / "study")
    assert out == tmp_path / "runs" / "study" and out.is_dir()
    text = (out / OUTPUT_MARKER).read_text(encoding="utf-8")
    assert "sklearn-cnntexture" in text and "not data" in text
    assert OUTPUT_MARKER.startswith(".")  # hidden: never listed as an image
    assert mark_output_folder(out) == out  # again: fine, existing outputs kept
    (out / "study.png").write_bytes(b"x")
    mark_output_folder(out)
    assert (out / "study.png").exists()


def test_mark_output_folder_refuses_a_file(tmp_path):
    path = tmp_path / "study"
    path.write_text("a file")
    with pytest.raises(FileExistsError):
        mark_output_folder(path)


def test_output_folder_in_data_is_skipped_with_one_warning(class_folder):
    out = mark_output_folder(class_folder / "study")
    write_image(out / "study.png")
    write_image(out / "union.png")
    mark_output_folder(class_folder / "cache")
    write_image(class_folder / "cache" / "x.png")
    with pytest.warns(UserWarning, match=r"^skipping 'cache', 'study' in '.*data': written by "
                      r"sklearn-cnntexture \(it holds '\.cnntexture-output'\)") as record:
        data = load_image_dataset(class_folder)
    assert len(record) == 1
    assert record[0].filename == __file__  # points at the caller
    assert data.target_names.tolist() == ["network", "pearlite"]
    assert not any("study" in f or "cache" in f for f in data.filenames)


def test_empty_output_folder_is_not_an_empty_class(class_folder):
    mark_output_folder(class_folder / "study")  # no images yet: still not a class
    with pytest.warns(UserWarning, match="skipping 'study'"):
        assert len(load_image_dataset(class_folder).filenames) == 5


def test_unmarked_data_gives_no_warning(class_folder):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_image_dataset(class_folder)


def test_only_output_folders_means_no_classes(tmp_path):
    write_image(mark_output_folder(tmp_path / "study") / "study.png")
    with pytest.warns(UserWarning, match="skipping 'study'"), \
            pytest.raises(ValueError, match="no class sub-folders"):
        load_image_dataset(tmp_path)


def test_output_folder_as_data_source_is_refused(class_folder):
    out = mark_output_folder(class_folder / "study")
    write_image(out / "network" / "a.png")  # looks like a data set, but is output
    with pytest.raises(ValueError, match=r"^'.*study' was written by sklearn-cnntexture .*"
                                         r"an output folder, not a data set"):
        load_image_dataset(out)


@pytest.mark.parametrize(
    "path, folder, expected",
    [("data/study", "data", True),
     ("data", "data", True),
     ("data/a/b/c", "data", True),
     ("data/../data/out", "data", True),
     ("study", "data", False),
     ("data2/study", "data", False),  # a prefix of the name is not inside
     ("data", "data/study", False)],
)
def test_is_inside(tmp_path, monkeypatch, path, folder, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    assert is_inside(path, folder) is expected
    assert is_inside(tmp_path / path, tmp_path / folder) is expected


def test_is_inside_follows_symlinks(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "shortcut").symlink_to(data, target_is_directory=True)
    assert is_inside(tmp_path / "shortcut" / "study", data)  # the output lands in data
    assert is_inside(data / "study", tmp_path / "shortcut")
    (data / "out").symlink_to(tmp_path / "results", target_is_directory=True)
    assert not is_inside(data / "out" / "study", data)  # written outside data, really


def test_new_names_are_public():
    assert {"OUTPUT_MARKER", "is_inside", "mark_output_folder"} <= set(datasets.__all__)
    assert OUTPUT_MARKER == ".cnntexture-output"


# --------------------------------------------------------------------------
# Issue 18: one layout rule for every command, nothing dropped without a word


def test_predict_refuses_loose_images_beside_folders_of_images(class_folder):
    write_image(class_folder / "new1.png")
    write_image(class_folder / "new2.png")
    with pytest.raises(ValueError) as info:
        load_images_to_predict(class_folder)
    assert str(info.value) == (
        f"'{class_folder}' holds both images directly inside it ('new1.png', 'new2.png') "
        "and folders of images ('network', 'pearlite'): reading either would leave the other "
        "out. Put the loose images in a folder of their own (or in their class folder), or "
        "list the images to predict in a CSV file with a 'path' column")
    with pytest.raises(ValueError, match="image files directly inside it"):
        load_image_dataset(class_folder)  # the same rule for study, fit, featurize


def test_predict_takes_a_flat_folder_beside_folders_without_images(tmp_path):
    write_image(tmp_path / "a.png")
    (tmp_path / "empty").mkdir()
    write_image(mark_output_folder(tmp_path / "study") / "figure.png")  # our output
    write_image(tmp_path / ".thumbs" / "a.png")  # hidden
    with pytest.warns(DataWarning, match=r"skipped 1 entry of .* that is not read as images "
                      r"\(1 folder\): 'empty/'"):
        data = load_images_to_predict(tmp_path)
    assert data.filenames.tolist() == [str(tmp_path / "a.png")]


def test_predict_one_image_file(tmp_path):
    path = write_image(tmp_path / "scan.tif", "tif16")
    data = load_images_to_predict(path)
    assert data.filenames.tolist() == [str(path)] and data.target is None
    assert list(data.frame.columns) == ["path"] and data.source == str(path)
    (tmp_path / "notes.docx").write_text("x")
    with pytest.raises(ValueError, match=r"notes\.docx' is neither an image file \(\.png, .*"
                       r"\.gif\), a folder .* nor a \.csv file"):
        load_images_to_predict(tmp_path / "notes.docx")
    (tmp_path / "fake.png").write_text("not an image")
    with pytest.raises(ValueError, match=r"1 of the 1 files cannot be read as images"):
        load_images_to_predict(tmp_path / "fake.png")


def test_files_not_read_are_named_in_one_warning(class_folder):
    Image.fromarray(np.zeros((6, 8), np.uint8)).save(class_folder / "network" / "c.gif")
    for name in ("x.webp", "y.webp", "z.jp2"):
        (class_folder / "pearlite" / name).write_bytes(b"x")
    write_image(class_folder / "pearlite" / "more" / "deep.png")  # nested: not read
    (class_folder / "stray.webp").write_bytes(b"x")  # beside the class folders
    for quiet in ("Thumbs.db", "desktop.ini", ".DS_Store", "README", "readme.md", "meta.xml"):
        (class_folder / "network" / quiet).write_bytes(b"x")
    with pytest.warns(DataWarning) as record:
        data = load_image_dataset(class_folder)
    assert len(record) == 1 and record[0].filename == __file__  # points at the caller
    assert str(record[0].message) == (
        f"skipped 5 entries of '{class_folder}' that are not read as images (1 .jp2, 3 .webp, "
        "1 folder): 'stray.webp', 'pearlite/more/', 'pearlite/x.webp', 'pearlite/y.webp', "
        "'pearlite/z.jp2'. Images are read from .png, .jpg, .jpeg, .tif, .tiff, .bmp, .gif "
        "files directly inside each image folder; convert other formats, move images out of "
        "nested folders")
    assert str(class_folder / "network" / "c.gif") in data.filenames  # GIFs are read


def test_flat_folder_to_predict_names_what_it_skips(tmp_path):
    write_image(tmp_path / "a.png")
    (tmp_path / "b.webp").write_bytes(b"x")
    (tmp_path / "list.txt").write_text("a document: quiet")
    with pytest.warns(DataWarning, match=r"^skipped 1 entry .*\(1 \.webp\): 'b\.webp'\.") \
            as record:
        load_images_to_predict(tmp_path)
    assert len(record) == 1 and record[0].filename == __file__


def _processing_csv(class_folder):
    """Micrographs with their processing record, as uhcsdb-processing.csv has them."""
    return write_csv(class_folder / "processing.csv",
                     "path,label,sample,anneal_temperature,cool_method,anneal_time_minutes\n"
                     "network/a.JPEG,network,11,800,WQ,90\n"
                     "pearlite/img2.jpg,pearlite,37,970,Q,\n"
                     "pearlite/img10.png,pearlite,37,970,Q,180\n")


def test_any_csv_column_is_the_target_and_any_the_groups(class_folder):
    csv_path = _processing_csv(class_folder)
    data = load_image_dataset(csv_path, target="anneal_temperature", groups="sample")
    assert data.task == "regression" and data.target.tolist() == [800.0, 970.0, 970.0]
    assert data.groups.tolist() == ["11", "37", "37"]
    data = load_image_dataset(csv_path, target="cool_method", groups="sample")
    assert data.task == "classification" and data.target_names.tolist() == ["Q", "WQ"]
    data = load_image_dataset(csv_path, target="anneal_temperature", task="classification")
    assert data.task == "classification" and data.target_names.tolist() == ["800", "970"]
    assert load_image_dataset(csv_path).target.tolist() == ["network", "pearlite", "pearlite"]


def test_a_target_or_groups_column_that_is_not_there_or_has_a_hole_is_named(class_folder):
    csv_path = _processing_csv(class_folder)
    with pytest.raises(ValueError, match=r"has no column 'hardness' \(the target\); found "
                                         r"columns: \['path', 'label', 'sample'"):
        load_image_dataset(csv_path, target="hardness")
    with pytest.raises(ValueError, match=r"has no column 'specimen' \(the groups\)"):
        load_image_dataset(csv_path, groups="specimen")
    with pytest.raises(ValueError, match=r"processing.csv', line 3: the "
                                         r"'anneal_time_minutes' cell is empty"):
        load_image_dataset(csv_path, target="anneal_time_minutes")
    with pytest.raises(ValueError, match=r"line 2: cool_method 'WQ' is not a finite number"):
        load_image_dataset(csv_path, target="cool_method", task="regression")
    with pytest.raises(ValueError, match="is a folder: its classes are its sub-folders"):
        load_image_dataset(class_folder, target="label")
