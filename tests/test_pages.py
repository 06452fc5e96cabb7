"""The pages a person browses, read as HTML (no browser): what they show and what they link.

The browser's view (scripts run, no request leaves the folder, the map's points)
is tests/test_browser.py's.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _pages import fit_study, make_data, write_labelled_predictions

from sklearn_cnntexture import VGGLayerTransformer
from sklearn_cnntexture.exceptions import InputError
from sklearn_cnntexture.report import write_study
from sklearn_cnntexture.report._html import html_table, page
from sklearn_cnntexture.report._map import embed, map_html
from sklearn_cnntexture.report._study_page import scores_html
from sklearn_cnntexture.report._thumbs import write_thumbnails


class _Links(HTMLParser):
    """Every src and href of a page, and the rows of its tables by id."""

    def __init__(self):
        super().__init__()
        self.links, self.rows, self._table = [], {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if attrs.get(name):
                self.links.append(attrs[name])
        if tag == "table":
            self._table = attrs.get("id")
        if tag == "tr" and self._table and "data-index" in attrs:
            self.rows.setdefault(self._table, []).append(int(attrs["data-index"]))


def parse(path):
    parser = _Links()
    parser.feed(Path(path).read_text(encoding="utf-8"))
    return parser


def local_files(page_path):
    """The page's links, each checked to be a relative path to a file of its folder."""
    page_path = Path(page_path)
    links = parse(page_path).links
    for href in links:
        if href.startswith("#"):
            continue
        assert not re.match(r"^[a-z]+:|^//", href), f"{href} leaves the folder"
        assert (page_path.parent / href).exists(), f"{href} is not beside the page"
    return links


# -- the pieces, without the network ---------------------------------------------------


def test_table_escapes_and_formats():
    frame = pd.DataFrame({"name": ["<b>x</b>", "y"], "score": [0.12345, float("nan")],
                          "n": [3, 4]})
    html = html_table(frame, sortable=True, digits=2)
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x" not in html
    assert '<td class="num" data-value="0.12345">0.12</td>' in html
    assert 'class="sortable"' in html
    assert '<td class="num" data-value="3">3</td>' in html


def test_page_is_self_contained():
    text = page("A <title>", "<p>body</p>", nav=[("../study/index.html", "study")],
                scripts=["plotly.min.js"])
    assert "A &lt;title&gt;" in text and 'href="../study/index.html"' in text
    assert "http" not in text  # no CDN, no font, no host at all


def test_scores_count_every_image():
    html = scores_html(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b"])
    assert "Accuracy 0.750 on 4 images" in html
    # rows true, columns predicted: a->a 1, a->b 1, b->b 2
    cells = re.findall(r'<td class="num" style="[^"]*">(\d+)</td>', html)
    assert cells == ["1", "1", "0", "2"]


def test_embed_gives_two_coordinates_per_image():
    features = np.random.default_rng(0).normal(size=(30, 5))
    for method in ("pca", "tsne"):
        xy, seconds = embed(features, method=method)
        assert xy.shape == (30, 2) and np.isfinite(xy).all() and seconds >= 0
    xy, _ = embed(features[:2], method="pca")  # too few for an embedding: kept, padded
    assert xy.shape == (2, 2)


def test_map_keeps_every_point_with_missing_values():
    xy = np.random.default_rng(0).normal(size=(5, 2))
    html = map_html(xy, {"class": ["a", "b", "a", "b", "a"],
                         "temperature": [700.0, np.nan, 800.0, 900.0, np.nan],
                         "cooling": ["WQ", None, "AR", "AR", "WQ"]},
                    names=[f"m{i}.png" for i in range(5)], wrong=[1, 0, 0, 0, 1])
    assert "not recorded (2)" in html  # the missing temperatures and the missing cooling
    assert "misclassified (2)" in html and "a (3)" in html and "b (2)" in html
    assert "temperature (3)" in html  # the coloured scale: 3 numbers, 2 grey points
    with pytest.raises(ValueError, match="colouring 'class' has 4 values for 5 points"):
        map_html(xy, {"class": ["a"] * 4}, names=["x"] * 5)


def test_map_data_cannot_close_its_script():
    html = map_html(np.zeros((1, 2)), {"class": ["a"]}, names=["</script><b>x.png"])
    assert "</script><b>" not in html


def test_thumbnails_of_files_and_arrays(tmp_path):
    from PIL import Image

    Image.fromarray(np.full((300, 600), 200, np.uint8)).save(tmp_path / "a.png")
    deep = np.linspace(0, 60000, 400 * 200).reshape(400, 200).astype(np.uint16)
    names = write_thumbnails([str(tmp_path / "a.png"), deep], tmp_path / "page")
    assert names == ["thumbs/000000.jpg", "thumbs/000001.jpg"]
    small = [Image.open(tmp_path / "page" / n) for n in names]
    assert small[0].size == (128, 64) and small[1].size == (64, 128)
    # a 16-bit image is stretched for display, not clipped to white
    assert np.asarray(small[1]).min() < 20 and np.asarray(small[1]).max() > 235


# -- the study's page --------------------------------------------------------------------


@pytest.fixture(scope="module")
def study_folder(tmp_path_factory):
    """A one-cell study of 24 striped micrographs written with its data."""
    root = tmp_path_factory.mktemp("pages")
    data = make_data(root / "data")
    vgg = VGGLayerTransformer(weights=None, random_state=0, cache=str(root / "cache"))
    study = fit_study(data, vgg)
    write_study(study, root / "study", data=data, name="stripes")
    return root / "study", study, data


def test_study_page_lists_the_out_of_fold_errors(study_folder):
    folder, study, _ = study_folder
    oof = pd.read_csv(folder / "out_of_fold.csv")
    pd.testing.assert_frame_equal(oof, study.oof_predictions_, check_dtype=False)
    wrong = np.flatnonzero(oof["true"] != oof["predicted"])
    assert 0 < len(wrong) < len(oof)  # the fixture's classes are hard enough to show errors
    parsed = parse(folder / "index.html")
    assert sorted(parsed.rows["misclassified"]) == list(wrong)
    text = (folder / "index.html").read_text()
    assert f"{len(wrong)} of {len(oof)} micrographs misclassified" in text
    for i in wrong:
        assert f'src="thumbs/{i:06d}.jpg"' in text


def test_study_page_links_only_files_beside_it(study_folder):
    folder, _, _ = study_folder
    links = local_files(folder / "index.html")
    assert {"study.png", "plotly.min.js", "results.csv", "out_of_fold.csv"} <= set(links)
    assert len(list((folder / "thumbs").glob("*.jpg"))) == 24


def test_study_page_shows_scores_and_the_map_columns(study_folder):
    folder, study, _ = study_folder
    text = (folder / "index.html").read_text()
    assert "stripes, 24 images, 3 classes, 3 folds x 1 repeats" in text
    assert "chance level 0.333" in text
    assert 'id="results"' in text and 'class="sortable"' in text
    assert "true \\ predicted" in text  # the confusion matrix
    # every colouring of the map: the class, the prediction, the group, the CSV's columns
    for name in ["class", "predicted (out of fold)", "group", "anneal_temperature",
                 "cool_method"]:
        assert f'"label":"{name}"' in text
    assert "Weights: random (seed 0)" in text  # never presented as pretrained


def test_study_page_without_data_says_so(study_folder, tmp_path):
    _, study, _ = study_folder
    paths = write_study(study, tmp_path / "bare")
    assert tmp_path / "bare" / "index.html" in paths
    text = (tmp_path / "bare" / "index.html").read_text()
    assert "no thumbnails and no microstructure map" in text
    assert not (tmp_path / "bare" / "thumbs").exists()
    assert "plotly.min.js" not in text
    local_files(tmp_path / "bare" / "index.html")


def test_study_page_refuses_other_data_before_writing(study_folder, tmp_path):
    folder, study, data = study_folder
    other = make_data(tmp_path / "other", n_per_class=2)
    with pytest.raises(InputError, match="data has 6 images but the study has 24"):
        write_study(study, tmp_path / "out", data=other)
    assert not (tmp_path / "out").exists()


# -- the predictions' page ---------------------------------------------------------------


@pytest.fixture(scope="module")
def predictions(tmp_path_factory):
    """Predictions of a model on its own training images, labelled, with heat maps."""
    root = tmp_path_factory.mktemp("predict")
    vgg = VGGLayerTransformer(weights=None, random_state=0, cache=str(root / "cache"))
    return write_labelled_predictions(root, vgg, model_name="steel.skops")


def test_prediction_page_shows_each_image_and_warns_of_training_images(predictions):
    from sklearn_cnntexture.report import prediction_page_paths

    out, result = predictions
    page_path, folder = prediction_page_paths(out)
    assert page_path in result.written and folder in result.written
    text = page_path.read_text()
    assert "9 of these 9 images were in the model's training set" in text
    assert "Model card of steel.skops" in text and "configuration: mean of block1_conv2" in text
    assert "true \\ predicted" in text  # labelled: the confusion matrix
    links = local_files(page_path)
    assert "new.csv" in links and "new.confusion.png" in links
    # each image: its thumbnail, and its heat map from new-explained/
    assert sum(link.startswith("new-page/thumbs/") for link in links) == 9
    assert sum(link.startswith("new-explained/") and link.endswith(".png")
               for link in links) == 2 * 9  # the figure, linked and shown
    for name in ["coarse", "medium", "fine"]:
        assert f"<th>p({name})</th>" in text


# -- the explanations' page --------------------------------------------------------------


@pytest.fixture(scope="module")
def explained(tmp_path_factory):
    """An explanation of 9 striped micrographs (files), written beside a study folder."""
    from sklearn_cnntexture.explain import explain_model
    from sklearn_cnntexture.report import write_explanations

    root = tmp_path_factory.mktemp("explain")
    data = make_data(root / "data", n_per_class=3)
    (root / "study").mkdir()
    (root / "study" / "index.html").write_text("<!DOCTYPE html><title>study</title>")
    vgg = VGGLayerTransformer(["block1_conv2"], weights=None, random_state=0,
                              cache=str(root / "cache"))
    e = explain_model(list(data.filenames), data.target, vgg=vgg, top_k=3, per_layer=2,
                      size=24, steps=3, n_estimators=10, verbose=False)
    write_explanations(e, root / "explained", study=root / "study")
    return root / "explained", e


def test_explanation_page_names_filters_one_way(explained):
    folder, e = explained
    text = (folder / "index.html").read_text()
    top = pd.read_csv(folder / "important_textures.csv")
    characteristic = pd.read_csv(folder / "characteristic_textures.csv")
    # one naming: the CSVs' texture column, the page's, and the figures' C1,2 #k
    for row in [*top.itertuples(), *characteristic.itertuples()]:
        assert row.texture == f"C1,2 #{row.filter}"
        assert f"<td>{row.texture}</td>" in text
    assert "block1_conv2 filter" not in text and "C1_2" not in text
    # each texture and each class's heat map is a file beside the page, named in its table
    links = local_files(folder / "index.html")
    assert {f"textures/block1_conv2-{f}.png" for f in top["filter"]} <= set(links)
    assert sum(link.startswith("heatmaps/") for link in links) == 2 * 3  # linked and shown
    for name in ["coarse/m0.png", "medium/m0.png", "fine/m0.png"]:
        assert Path(name).name in text  # the micrograph under each heat map, by file name
    assert '<a href="../study/index.html">' in text  # back to the study's page


def test_the_commands_write_linked_pages(tmp_path, capsys):
    """study -> fit --study -> predict through the entry point: each writes its page, the
    study's with the map, the predictions' linking the study that chose the model."""
    from sklearn_cnntexture.cli import main

    make_data(tmp_path / "data")
    csv, study = tmp_path / "data" / "data.csv", tmp_path / "study"
    assert main(["study", str(csv), "--out", str(study), "--weights", "hed-bsds500",
                 "--layers", "C1_2", "--encoders", "mean", "--no-raw", "--no-union",
                 "--folds", "2", "--repeats", "1", "--trees", "10"]) == 0
    text = (study / "index.html").read_text()
    assert "Microstructure map" in text and (study / "plotly.min.js").is_file()
    assert len(list((study / "thumbs").glob("*.jpg"))) == 24
    model = tmp_path / "model.skops"
    assert main(["fit", str(csv), "--study", str(study), "--out", str(model)]) == 0
    out = tmp_path / "predictions" / "p.csv"
    out.parent.mkdir()
    assert main(["predict", str(model), str(csv), "--out", str(out)]) == 0
    page = out.with_suffix(".html").read_text()
    assert 'href="../study/index.html"' in page
    assert "were in the model's training set" in page or "training set" in page
    # The page is an output like the others: its folder never holds an input.
    shots = tmp_path / "shots-page"
    shots.mkdir()
    victim = shots / "m0.png"
    victim.write_bytes((tmp_path / "data" / "coarse" / "m0.png").read_bytes())
    (tmp_path / "shots.txt.csv").write_text("path\nshots-page/m0.png\n")
    capsys.readouterr()
    before = victim.read_bytes()
    assert main(["predict", str(model), str(tmp_path / "shots.txt.csv"), "--out",
                 str(tmp_path / "shots.csv")]) == 2
    assert "the page's folder" in capsys.readouterr().err
    assert victim.read_bytes() == before
