"""Tests of the figures: what each draws (series, bars, images, labels), saving, errors.

Synthetic study tables and random smooth textures stand in for real results, so the
tests need no network and run in a few seconds.
"""

import os

import matplotlib

matplotlib.use("Agg")  # headless, before anything draws

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure
from PIL import Image

from sklearn_cnntexture.plotting import (
    ENCODER_COLORS,
    _heatmaps,
    chance_level,
    describe_data,
    layer_label,
    plot_characteristic_textures,
    plot_heatmap,
    plot_heatmaps,
    plot_important_textures,
    plot_models,
    plot_study,
    plot_texture_grid,
    plot_union,
    save_figure,
)

LAYERS = ["block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3"]
PAPER_LABELS = ["C1,2", "C2,2", "C3,3", "C4,3", "C5,3"]
ENCODERS = ["mean", "max", "gram", "vlad"]
CLASSES = ["network", "spheroidite", "pearlite"]


@pytest.fixture(autouse=True)
def close_figures():
    """Close anything pyplot holds (the module itself never registers figures)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def results():
    """5 paper layers x 4 encoders, one raw-image row per encoder, one union row; shuffled."""
    rng = np.random.default_rng(0)
    rows = [
        dict(layer=layer, encoder=encoder, n_features=64, f1_mean=rng.uniform(0.6, 0.9),
             f1_std=rng.uniform(0.01, 0.03), time=1.0)
        for encoder in ENCODERS for layer in LAYERS
    ]  # fmt: skip
    rows += [
        dict(layer="image", encoder=encoder, n_features=1, f1_mean=0.5 + 0.01 * i,
             f1_std=0.02, time=0.1)
        for i, encoder in enumerate(ENCODERS)
    ]  # fmt: skip
    rows.append(dict(layer="union", encoder="mean", n_features=1472, f1_mean=0.93,
                     f1_std=0.01, time=5.0))  # fmt: skip
    return pd.DataFrame(rows).sample(frac=1, random_state=1).reset_index(drop=True)


def smooth_texture(rng, size=16):
    """Random smooth colored noise in [0, 1]."""
    small = rng.random((4, 4, 3))
    channels = [_heatmaps._resize_bilinear(small[..., c], (size, size)) for c in range(3)]
    return np.stack(channels, -1)


def tick_texts(ax):
    return [t.get_text() for t in ax.get_xticklabels()]


def errorbar_containers(ax):
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def bar_containers(ax):
    return [c for c in ax.containers if isinstance(c, BarContainer)]


# ----------------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    "layer, label",
    [("block1_conv2", "C1,2"), ("block5_conv3", "C5,3"), ("C3_3", "C3,3"), ("image", "raw image"),
     ("union", "union")],
)  # fmt: skip
def test_layer_label(layer, label):
    assert layer_label(layer) == label


# ----------------------------------------------------------------------------- study


def test_plot_study_series_baselines_and_labels(results):
    fig = plot_study(results)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    # One error-bar series per encoder, in the paper's order, each with its error bars.
    series = errorbar_containers(ax)
    assert [c.get_label() for c in series] == ENCODERS
    for container in series:
        data_line, caplines, barlines = container.lines
        assert len(data_line.get_xdata()) == len(LAYERS)
        assert caplines and barlines  # error bars with caps
        assert data_line.get_color() == ENCODER_COLORS[container.get_label()]
    # Layers in network order with the paper's names, although the table is shuffled.
    assert tick_texts(ax) == PAPER_LABELS
    # One dashed raw-image line per encoder, in the encoder's colour.
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert {line.get_label(): line.get_color() for line in dashed} == {
        f"{e} on raw image": ENCODER_COLORS[e] for e in ENCODERS
    }
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ENCODERS + [f"{e} on raw image" for e in ENCODERS]
    assert ax.get_xlabel() == "VGG16 layer"
    assert ax.get_ylabel() == "F1 score"


def test_plot_study_chance_line_and_baselines_beneath_the_series(results):
    ax = plot_study(results, chance=1 / 3).axes[0]
    (chance,) = [line for line in ax.lines if line.get_label().startswith("chance")]
    assert chance.get_label() == "chance (0.33)" and chance.get_linestyle() == ":"
    assert chance.get_ydata()[0] == pytest.approx(1 / 3)
    assert [t.get_text() for t in ax.get_legend().get_texts()][-1] == "chance (0.33)"
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    series_z = min(c.lines[0].get_zorder() for c in errorbar_containers(ax))
    for line in dashed:  # beneath, lighter, with the encoder's hollow marker
        assert line.get_zorder() < series_z and line.get_alpha() < 1
        assert line.get_marker() != "None" and line.get_markerfacecolor() == "white"
    assert not [line for line in plot_study(results).axes[0].lines
                if line.get_label().startswith("chance")]


@pytest.mark.parametrize(
    "metric, y, expected",
    [("f1", ["a", "b", "c"] * 4, 1 / 3), ("f1_macro", ["a"] * 8 + ["b"] * 2, 0.5),
     ("f1", ["a"] * 8 + ["b"] * 2, 0.5), ("balanced_accuracy", ["a"] * 8 + ["b"] * 2, 0.5),
     ("accuracy", ["a"] * 8 + ["b"] * 2, 0.8), ("f1_micro", ["a"] * 8 + ["b"] * 2, 0.8),
     ("r2", [0.1, 2.0], 0.0), ("f1_weighted", ["a", "b"], None),
     ("neg_log_loss", ["a", "b"], None)],
)  # fmt: skip
def test_chance_level(metric, y, expected):
    assert chance_level(metric, y) == (None if expected is None else pytest.approx(expected))


def test_chance_level_is_the_best_that_guessing_scores():
    """Macro F1 of guesses that ignore the image, on imbalanced classes: the stratified
    guess scores 1/k, the best of them; uniform guessing and the largest class less."""
    from sklearn.dummy import DummyClassifier
    from sklearn.metrics import accuracy_score, f1_score

    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b", "c"], p=[0.6, 0.3, 0.1], size=200_000)
    X = np.zeros((y.size, 1))
    scores = {}
    for strategy in ("stratified", "uniform", "most_frequent"):
        guess = DummyClassifier(strategy=strategy, random_state=0).fit(X, y).predict(X)
        scores[strategy] = f1_score(y, guess, average="macro"), accuracy_score(y, guess)
    assert chance_level("f1", y) == pytest.approx(1 / 3)
    assert scores["stratified"][0] == pytest.approx(chance_level("f1", y), abs=0.005)
    assert max(scores["uniform"][0], scores["most_frequent"][0]) < chance_level("f1", y) - 0.03
    assert scores["most_frequent"][1] == pytest.approx(chance_level("accuracy", y), abs=0.005)
    assert scores["stratified"][1] < chance_level("accuracy", y)


def test_plot_study_series_do_not_share_x(results):
    ax = plot_study(results).axes[0]
    firsts = [c.lines[0].get_xdata()[0] for c in errorbar_containers(ax)]
    assert len(set(firsts)) == len(ENCODERS)  # offsets keep error bars apart


def test_plot_study_ignores_union_and_draws_on_given_axes(results):
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_study(results, ax=ax, ylabel="F1 (macro)", title="UHCS") is fig
    assert ax.get_ylabel() == "F1 (macro)"
    assert ax.get_title() == "UHCS"
    assert "union" not in tick_texts(ax)


def test_plot_study_other_metric_and_subset():
    table = pd.DataFrame({
        "layer": ["block4_conv3", "block2_conv2", "image"], "encoder": ["gram", "gram", "gram"],
        "r2_mean": [0.7, 0.6, 0.2], "r2_std": [0.05, 0.04, 0.1],
    })  # fmt: skip
    ax = plot_study(table, metric="r2").axes[0]
    assert ax.get_ylabel() == "R²"
    assert tick_texts(ax) == ["C2,2", "C4,3"]
    assert [c.get_label() for c in errorbar_containers(ax)] == ["gram"]


def test_plot_study_missing_columns(results):
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['f1_std'\]; found .*'layer'"):
        plot_study(results.drop(columns="f1_std"))
    with pytest.raises(ValueError, match="accuracy_mean"):
        plot_study(results, metric="accuracy")
    with pytest.raises(TypeError, match=r"^The 'results' parameter of plot_study must be an "
                       r"instance of 'pandas.DataFrame'"):
        plot_study(results.to_numpy())


def test_plot_study_duplicates_and_empty(results):
    with pytest.raises(ValueError, match="several rows"):
        plot_study(pd.concat([results, results.iloc[:1]]))
    with pytest.raises(ValueError, match="no CNN-layer rows"):
        plot_study(results[results["layer"].isin(["image", "union"])])


# ----------------------------------------------------------------------------- union


def test_plot_union_bars_annotations_and_order(results):
    ax = plot_union(results).axes[0]
    bars = bar_containers(ax)
    assert [len(b.patches) for b in bars] == [len(LAYERS), 1]
    assert all(b.errorbar is not None for b in bars)
    assert tick_texts(ax) == PAPER_LABELS + ["union"]
    single, union = bars[0].patches, bars[1].patches[0]
    assert union.get_facecolor() != single[0].get_facecolor()  # distinct colour
    means = results.set_index(["layer", "encoder"])["f1_mean"]
    expected = [means[(layer, "mean")] for layer in LAYERS] + [means[("union", "mean")]]
    np.testing.assert_allclose([p.get_height() for p in single] + [union.get_height()], expected)
    assert [t.get_text() for t in ax.texts] == [f"{v:.3f}" for v in expected]
    assert ax.get_ylim()[0] == 0  # bars start at zero


def test_plot_union_other_encoder_without_union(results):
    ax = plot_union(results, encoder="gram").axes[0]
    assert [len(b.patches) for b in bar_containers(ax)] == [len(LAYERS)]
    assert tick_texts(ax) == PAPER_LABELS


def test_plot_union_errors(results):
    with pytest.raises(ValueError, match="no rows with encoder 'bow'"):
        plot_union(results, encoder="bow")
    with pytest.raises(ValueError, match=r"\['encoder'\]"):
        plot_union(results.drop(columns="encoder"))


def _chance_lines(ax):
    from matplotlib.lines import Line2D

    return [line for line in ax.get_lines()
            if isinstance(line, Line2D) and line.get_label().startswith("chance")]


def _with_models(results):
    return pd.concat([results.assign(model="rf"), results.assign(model="logreg")],
                     ignore_index=True)


@pytest.mark.parametrize("figure", ["study", "union", "models"])
def test_every_study_figure_draws_chance_in_its_legend(results, figure):
    draw = {"study": lambda **kw: plot_study(results, **kw),
            "union": lambda **kw: plot_union(results, **kw),
            "models": lambda **kw: plot_models(_with_models(results), **kw)}[figure]
    fig = draw(chance=0.25)
    for ax in fig.axes:
        (line,) = _chance_lines(ax)
        assert line.get_ydata()[0] == pytest.approx(0.25) and line.get_linestyle() == ":"
        assert "chance (0.25)" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert not any(_chance_lines(ax) for ax in draw().axes)  # no chance given, no line


def test_study_figures_are_titled_with_their_data(results):
    data = describe_data("steel", n_images=120, n_classes=3, cv="5 folds x 2 repeats")
    assert data == "steel: 120 images, 3 classes, 5 folds x 2 repeats"
    assert plot_study(results, data=data).axes[0].get_title() == data
    assert plot_study(results, data=data, title="Fig. 6").axes[0].get_title() == (
        f"{data}\nFig. 6")
    assert plot_union(results, data=data).axes[0].get_title() == (
        f"{data}\nmean encoder: single layers and their union")
    assert plot_models(_with_models(results), data=data).get_suptitle() == data
    assert plot_study(results).axes[0].get_title() == ""  # nothing known, no title


@pytest.mark.parametrize(
    "kwargs, expected",
    [({}, None), ({"name": "steel"}, "steel"),
     ({"n_images": 1, "n_classes": 1}, "1 image, 1 class"),
     ({"n_images": 40, "cv": "5 folds x 1 repeats"}, "40 images, 5 folds x 1 repeats")],
)  # fmt: skip
def test_describe_data(kwargs, expected):
    assert describe_data(**kwargs) == expected


def test_unknown_encoder_keeps_its_colour_across_figures(results):
    extra = pd.DataFrame({"layer": LAYERS, "encoder": "bow", "f1_mean": 0.7, "f1_std": 0.01})
    table = pd.concat([results, extra], ignore_index=True)
    study = plot_study(table).axes[0]
    (series,) = [c for c in errorbar_containers(study) if c.get_label() == "bow"]
    bar = bar_containers(plot_union(table, encoder="bow").axes[0])[0].patches[0]
    assert matplotlib.colors.same_color(series.lines[0].get_color(), bar.get_facecolor())
    assert series.lines[0].get_color() not in ENCODER_COLORS.values()


# ----------------------------------------------------------------------------- textures


def test_plot_texture_grid_list():
    rng = np.random.default_rng(0)
    textures = [smooth_texture(rng) for _ in range(10)]
    labels = [f"C3,3 #{i}" for i in range(10)]
    fig = plot_texture_grid(textures, labels, ncols=4, title="C3,3")
    with_images = [ax for ax in fig.axes if ax.images]
    assert len(with_images) == 10
    assert [ax.get_xlabel() for ax in with_images] == labels
    assert len(fig.axes) == 12  # 3 rows of 4, the last two empty and hidden
    assert not any(ax.axison for ax in fig.axes if not ax.images)


def test_plot_texture_grid_dict_uint8_and_gray():
    rng = np.random.default_rng(0)
    textures = {
        "block1_conv2": [(smooth_texture(rng) * 255).astype(np.uint8) for _ in range(3)],
        "block3_conv3": [rng.random((16, 16)) for _ in range(5)],
    }
    fig = plot_texture_grid(textures, ncols=4)
    # Each layer names its block's first row, in the left margin.
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()] == ["C1,2", "C3,3"]
    assert sum(len(ax.images) for ax in fig.axes) == 8


def test_plot_texture_grid_is_as_tall_as_its_rows():
    """No blank bands: the figure's height follows its rows of square textures."""
    rng = np.random.default_rng(0)
    one = plot_texture_grid({"block1_conv2": [smooth_texture(rng)] * 4}, ncols=4)
    three = plot_texture_grid({"block1_conv2": [smooth_texture(rng)] * 12}, ncols=4)
    width, height = one.get_size_inches()
    assert height < 0.5 * width  # one row of four square cells
    assert three.get_size_inches()[1] == pytest.approx(3 * height, rel=0.1)


def test_plot_texture_grid_label_mismatch():
    with pytest.raises(ValueError, match="2 textures but 1 labels"):
        plot_texture_grid([np.zeros((4, 4, 3))] * 2, ["a"])


@pytest.fixture
def importance_table():
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "layer": ["block3_conv3", "block4_conv3", "block1_conv2"], "filter": [17, 402, 3],
        "importance": [0.03, 0.05, 0.01],
        **{f"mean_{c}": rng.uniform(0, 100, 3) for c in CLASSES},
    })  # fmt: skip


def test_plot_important_textures(importance_table):
    rng = np.random.default_rng(0)
    fig = plot_important_textures([smooth_texture(rng) for _ in range(3)], importance_table)
    images = [ax for ax in fig.axes if ax.images]
    bars = [ax for ax in fig.axes if bar_containers(ax)]
    assert len(images) == len(bars) == 3
    # Ranked by importance, each titled with rank, (layer, filter) and importance.
    assert [ax.get_title().split("\n")[0] for ax in images] == [
        "#1  C4,3 #402", "#2  C3,3 #17", "#3  C1,2 #3",
    ]  # fmt: skip
    assert images[0].get_title().endswith("importance 0.05")
    # One bar per class, same colours under every texture, classes named once.
    for ax in bars:
        (container,) = bar_containers(ax)
        assert len(container.patches) == len(CLASSES)
    colors = [[p.get_facecolor() for p in bar_containers(ax)[0].patches] for ax in bars]
    assert colors[0] == colors[1] == colors[2]
    assert [t.get_text() for t in bars[0].get_yticklabels()] == CLASSES
    np.testing.assert_allclose(
        [p.get_width() for p in bar_containers(bars[0])[0].patches],
        importance_table.loc[1, [f"mean_{c}" for c in CLASSES]].to_numpy(float),
    )


def test_plot_important_textures_class_subset_and_errors(importance_table):
    textures = [np.zeros((8, 8, 3))] * 3
    fig = plot_important_textures(textures, importance_table, class_names=["pearlite"])
    bars = [ax for ax in fig.axes if bar_containers(ax)]
    assert len(bar_containers(bars[0])[0].patches) == 1
    with pytest.raises(ValueError, match="mean_ferrite"):
        plot_important_textures(textures, importance_table, class_names=["ferrite"])
    with pytest.raises(ValueError, match="2 textures but 3 table rows"):
        plot_important_textures(textures[:2], importance_table)
    with pytest.raises(ValueError, match="importance"):
        plot_important_textures(textures, importance_table.drop(columns="importance"))
    with pytest.raises(ValueError, match="no mean_<class> column"):
        plot_important_textures(textures, importance_table[["layer", "filter", "importance"]])


def test_plot_heatmap_upsamples_and_adds_colorbar():
    rng = np.random.default_rng(0)
    image = rng.random((40, 60))
    fig = plot_heatmap(image, rng.random((5, 6)), alpha=0.4, title="C3,3 #17")
    left, right, colorbar = fig.axes
    assert len(left.images) == 1
    assert len(right.images) == 2  # micrograph, then the heat map over it
    heat = right.images[1]
    assert heat.get_array().shape == (40, 60)
    assert heat.get_alpha() == 0.4
    assert colorbar.get_ylabel() == "activation"


def test_plot_heatmap_same_size_rgb_and_errors():
    rng = np.random.default_rng(0)
    heat = rng.random((20, 20))
    fig = plot_heatmap(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8), heat)
    np.testing.assert_array_equal(fig.axes[1].images[1].get_array(), heat)
    with pytest.raises(ValueError, match="heatmap must be 2-D"):
        plot_heatmap(np.zeros((20, 20)), np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="gray or"):
        plot_heatmap(np.zeros((2, 20, 20, 3)), heat)


def test_plot_heatmap_names_its_micrograph():
    fig = plot_heatmap(np.zeros((8, 8)), np.zeros((2, 2)), name="micrograph7.png")
    assert fig.axes[0].get_title() == "micrograph7.png"
    assert plot_heatmap(np.zeros((8, 8)), np.zeros((2, 2))).axes[0].get_title() == "micrograph"


def test_plot_heatmaps_one_row_per_class_titled_with_file_names():
    heat = {c: (np.zeros((16, 24)), np.ones((4, 6)), "block3_conv3", i)
            for i, c in enumerate(CLASSES)}  # fmt: skip
    fig = plot_heatmaps(heat, {c: f"{c}.png" for c in CLASSES})
    assert [sub._suptitle.get_text() for sub in fig.subfigs] == [
        f"{c}: C3,3 #{i}" for i, c in enumerate(CLASSES)
    ]
    assert [ax.get_title() for ax in fig.axes if len(ax.images) == 1] == [
        f"{c}.png" for c in CLASSES
    ]
    with pytest.raises(ValueError, match="no heat maps"):
        plot_heatmaps({})


def test_resize_bilinear_keeps_constant_and_range():
    rng = np.random.default_rng(0)
    np.testing.assert_allclose(_heatmaps._resize_bilinear(np.full((3, 4), 2.0), (7, 9)), 2.0)
    small = rng.random((4, 5))
    big = _heatmaps._resize_bilinear(small, (16, 20))
    assert big.shape == (16, 20)
    assert small.min() <= big.min() and big.max() <= small.max()


def test_plot_characteristic_textures():
    rng = np.random.default_rng(0)
    textures = {c: [(f"C3,3 #{i}", smooth_texture(rng)) for i in range(2)] for c in CLASSES}
    textures["pearlite"] = textures["pearlite"][:1]
    examples = {"network": [rng.random((32, 32))] * 3, "spheroidite": [rng.random((32, 32))]}
    values = {"network": [0.123456, "high"], "spheroidite": [1.0, 2.0], "pearlite": [3.5]}
    fig = plot_characteristic_textures(textures, examples, values, class_names=CLASSES)
    axes = np.array(fig.axes).reshape(4, 3)  # 2 example rows + 2 texture rows, 3 classes
    assert [ax.get_title() for ax in axes[0]] == CLASSES
    # Up to 2 examples per class; missing ones leave hidden cells.
    assert [[bool(ax.images) for ax in row] for row in axes[:2]] == [
        [True, True, False], [True, False, False],
    ]  # fmt: skip
    assert axes[2, 0].get_xlabel() == "C3,3 #0\n0.123"
    assert axes[3, 0].get_xlabel() == "C3,3 #1\nhigh"
    assert not axes[3, 2].axison
    assert axes[0, 0].get_ylabel() == "example"


def test_plot_characteristic_textures_names_examples_and_has_no_blank_bands():
    rng = np.random.default_rng(0)
    wide = rng.random((30, 40))  # micrographs wider than tall, textures square
    examples = {c: [(f"{c}_{i}.png", wide) for i in range(2)] for c in CLASSES}
    textures = {c: [("C3,3 #1", smooth_texture(rng))] for c in CLASSES}
    fig = plot_characteristic_textures(textures, examples, class_names=CLASSES)
    axes = np.array(fig.axes).reshape(3, 3)
    assert [ax.get_xlabel() for ax in axes[:2, 0]] == ["network_0.png", "network_1.png"]
    # Rows as tall as their images: two 3:4 micrograph rows and one square texture row.
    width, height = fig.get_size_inches()
    column = (width - 0.5) / 3
    assert height < column * (0.75 + 0.75 + 1) + 1.5


def test_plot_characteristic_textures_bare_textures_and_errors():
    texture = np.zeros((8, 8, 3))
    fig = plot_characteristic_textures({"a": [texture]}, {})
    assert len(fig.axes) == 1 and fig.axes[0].get_xlabel() == ""
    with pytest.raises(ValueError, match=r"no textures for class\(es\) \['b'\]"):
        plot_characteristic_textures({"a": [texture]}, {}, class_names=["a", "b"])
    with pytest.raises(ValueError, match="1 textures but 2 values"):
        plot_characteristic_textures({"a": [texture]}, {}, {"a": [1, 2]})


# ----------------------------------------------------------------------------- saving


def test_save_figure_writes_png_and_svg(tmp_path, results):
    fig = plot_study(results)
    png, svg = save_figure(fig, tmp_path / "new" / "study.pdf")
    assert (png, svg) == (tmp_path / "new" / "study.png", tmp_path / "new" / "study.svg")
    assert png.stat().st_size > 0 and svg.stat().st_size > 0
    with Image.open(png) as image:
        image.verify()
        assert image.format == "PNG"
    assert svg.read_text().lstrip().startswith("<?xml")
    assert sorted(p.name for p in png.parent.iterdir()) == ["study.png", "study.svg"]
    # Created with the usual permissions, not a private temporary file's.
    mask = os.umask(0)
    os.umask(mask)
    assert png.stat().st_mode & 0o777 == 0o666 & ~mask


def test_save_figure_failure_leaves_no_file(tmp_path, monkeypatch):
    fig = Figure()

    def broken(*args, **kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError, match="killed"):
        save_figure(fig, tmp_path / "figure")
    assert list(tmp_path.iterdir()) == []


def test_no_figure_left_in_pyplot(results, importance_table):
    import matplotlib.pyplot as plt

    plt.close("all")
    plot_study(results)
    plot_union(results)
    plot_texture_grid([np.zeros((4, 4, 3))], ["a"])
    plot_important_textures([np.zeros((4, 4, 3))] * 3, importance_table)
    plot_heatmap(np.zeros((8, 8)), np.zeros((2, 2)))
    plot_characteristic_textures({"a": [np.zeros((4, 4, 3))]}, {})
    assert plt.get_fignums() == []
