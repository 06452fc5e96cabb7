"""Issue 13: the data to predict, the study's best row as a pipeline, and supporting filters."""

import json

import numpy as np
import pandas as pd
import pytest
import tifffile
from PIL import Image

from sklearn_cnntexture.features.encoders import GramEncoder, MaxPool, VLADEncoder
from sklearn_cnntexture.features.featurize import make_featurizer
from sklearn_cnntexture.features.union import MultiLayerUnion
from sklearn_cnntexture.features.vgg import VGGLayerTransformer
from sklearn_cnntexture.io.datasets import load_images_to_predict
from sklearn_cnntexture.io.records import with_pixel_sizes
from sklearn_cnntexture.model import predict
from sklearn_cnntexture.model.predict import (
    configuration_pipeline,
    score_predictions,
    study_configuration,
    supporting_filters,
)
from sklearn_cnntexture.study import load_study


def _png(path, shape=(16, 16)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros(shape, np.uint8)).save(path)
    return str(path)


def test_images_to_predict_come_as_a_flat_folder_class_folders_or_a_csv(tmp_path):
    flat = [_png(tmp_path / "flat" / f"img{i}.png") for i in (10, 2)]
    data = load_images_to_predict(tmp_path / "flat")
    assert data.filenames.tolist() == flat[::-1] and data.target is None  # natural order
    _png(tmp_path / "classes" / "a" / "x.png")
    assert load_images_to_predict(tmp_path / "classes").target.tolist() == ["a"]
    (tmp_path / "flat" / "list.csv").write_text("path,pixel_size\nimg2.png,0.5\nimg10.png,\n")
    data = load_images_to_predict(tmp_path / "flat" / "list.csv")
    assert data.target is None and data.frame["path"].tolist() == flat[::-1]
    assert data.frame["pixel_size"].tolist()[0] == 0.5 and np.isnan(data.frame["pixel_size"][1])
    (tmp_path / "flat" / "bad.csv").write_text("path,pixel_size\nimg2.png,-1\n")
    with pytest.raises(ValueError, match=r"bad\.csv', line 2: pixel_size '-1'"):
        load_images_to_predict(tmp_path / "flat" / "bad.csv")


def test_pixel_sizes_the_table_first_then_metadata_then_the_data_set_value(tmp_path):
    paths = [_png(tmp_path / f"{name}.png") for name in "ab"]
    tifffile.imwrite(tmp_path / "c.tif", np.zeros((8, 8), np.uint8), resolution=(1e4, 1e4),
                     resolutionunit="CENTIMETER")  # 1 um per pixel
    paths.append(str(tmp_path / "c.tif"))
    assert with_pixel_sizes(paths, 0.3)["pixel_size"].tolist() == [0.3, 0.3, 1.0]
    table = pd.DataFrame({"path": paths, "pixel_size": [0.1, np.nan, np.nan]})
    assert with_pixel_sizes(table, 0.3)["pixel_size"].tolist() == [0.1, 0.3, 1.0]
    unknown = with_pixel_sizes(table)["pixel_size"].tolist()
    assert unknown[0] == 0.1 and np.isnan(unknown[1]) and unknown[2] == 1.0
    assert np.isnan(table["pixel_size"][1])  # a copy: the caller's table is unchanged


def _study_folder(tmp_path, rows, layers=("block1_conv2", "block2_conv2")):
    pd.DataFrame(rows).to_csv(tmp_path / "results.csv", index=False)
    config = {"vgg": {"weights": None, "crop": None, "resize": None, "float_scale": 255.0,
                      "batch_size": 8, "cache": None, "random_state": 0},
              "layers": list(layers), "vlad_resize": 255, "n_estimators": 7,
              "random_state": 3}
    (tmp_path / "study.json").write_text(json.dumps(config))
    return load_study(tmp_path)


def test_the_study_best_row_becomes_the_pipeline(tmp_path):
    row = {"layer": "union", "encoder": "mean", "model": "rf", "f1_mean": 0.9, "f1_std": 0.02}
    worse = {**row, "layer": "block1_conv2", "encoder": "vlad", "f1_mean": 0.5}
    choice = study_configuration(_study_folder(tmp_path, [worse, row]))
    vgg, encode, model = (step for _, step in choice.pipeline.steps)
    assert vgg.layers == ["block1_conv2", "block2_conv2"] and isinstance(encode, MultiLayerUnion)
    assert model.n_estimators == 7 and model.random_state == 3
    assert choice.cv_score == {"metric": "f1", "mean": 0.9, "std": 0.02}
    vlad = {**worse, "f1_mean": 0.95}
    choice = study_configuration(_study_folder(tmp_path, [vlad, row]))
    vgg, encode, _ = (step for _, step in choice.pipeline.steps)
    assert isinstance(encode, VLADEncoder) and vgg.resize == 255  # the study's VLAD size
    foreign = {**row, "encoder": "mean+gram", "f1_mean": 0.99}  # not a candidate of ours
    with pytest.raises(ValueError, match="mean\\+gram of union.*--layers and --encoder"):
        study_configuration(_study_folder(tmp_path, [foreign, row]))


def test_scores_and_supporting_filters():
    scores = score_predictions(["a", "a", "b"], ["a", "b", "b"], ["a", "b"])
    assert scores.accuracy == pytest.approx(2 / 3)
    assert scores.confusion.loc["a", "b"] == 1 and scores.confusion.loc["b", "b"] == 1
    stats = {"names": ["block1_conv2__mean__0", "block1_conv2__mean__1",
                       "block1_conv2__mean__2"],
             "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0],
             "class_means": {"a": [1.0, -1.0, 0.0], "b": [-1.0, 1.0, 0.0]}}

    class Model:  # a fitted pipeline's last step is all supporting_filters reads
        steps = [("model", type("Forest", (), {"feature_importances_": [0.2, 0.5, 0.3]})())]

    chosen = supporting_filters(Model(), np.array([[2.0, -2.0, 5.0]]), ["a"], stats, 2)
    # Filter 1 is low, as class a's are, and matters most; filter 2 says nothing of a.
    assert chosen == [[("block1_conv2", 1), ("block1_conv2", 0)]]


def test_one_feature_pipeline_for_featurize_study_fit_and_explain():
    """make_featurizer builds every vgg -> encode; configuration_pipeline adds make_model's."""
    vgg = VGGLayerTransformer(["C1_2", "C2_2"], weights=None, random_state=0,
                              cache_layers=["C1_2", "C2_2", "C3_3"])
    vlad = make_featurizer(vgg, "vlad", layers="C3_3", vlad_resize=64, random_state=5)
    assert (vlad[0].layers, vlad[0].cache_layers, vlad[0].resize) == ("C3_3", None, 64)
    assert isinstance(vlad[1], VLADEncoder) and vlad[1].random_state == 5
    assert vgg.layers == ["C1_2", "C2_2"] and vgg.resize is None  # cloned, never changed
    union = make_featurizer(vgg, "max", vlad_resize=64)  # the VLAD size is VLAD's only
    assert isinstance(union[1], MultiLayerUnion) and isinstance(union[1].encoder, MaxPool)
    assert union[0].resize is None and union[0].cache_layers == vgg.cache_layers
    pipeline = configuration_pipeline(vgg, ["C1_2"], "gram", n_estimators=3, random_state=2)
    assert [name for name, _ in pipeline.steps] == ["vgg", "encode", "model"]
    assert pipeline[0].layers == "C1_2" and isinstance(pipeline[1], GramEncoder)
    assert (pipeline[-1].n_estimators, pipeline[-1].random_state) == (3, 2)
    assert not hasattr(predict, "make_pipeline")  # scikit-learn's name is scikit-learn's
    with pytest.raises(ValueError, match="'encoder' parameter of make_featurizer must be"):
        make_featurizer(vgg, "fisher")
    with pytest.raises(ValueError, match="'encoder' parameter of configuration_pipeline"):
        configuration_pipeline(vgg, "C1_2", "fisher")


def test_public_functions_validate_their_arguments(tmp_path):
    with pytest.raises(ValueError, match="'y_true' parameter of score_predictions must be"):
        score_predictions(None, ["a"], ["a"])
    with pytest.raises(ValueError, match="'task' parameter of study_configuration must be"):
        study_configuration(_study_folder(tmp_path, [{"layer": "block1_conv2",
                                                      "encoder": "mean", "f1_mean": 1.0,
                                                      "f1_std": 0.0}]), task="ranking")
