"""A small study written to a folder with its data, shared by the page tests and the browser tests.

Striped micrographs as PNG files listed in a CSV with a group and two more
columns (a number with empty cells, a name), so that the page has thumbnails
and the map has every kind of colouring. The tests give random weights
(the page is about the files, not the network's quality): they name the network
themselves, so that conftest marks them ``tf``.
"""

import numpy as np
from _micrographs import striped
from PIL import Image

from sklearn_cnntexture.io.datasets import load_image_dataset

CLASSES = ["coarse", "medium", "fine"]


def make_data(root, n_per_class=8, size=40):
    """Write the images and ``data.csv`` under ``root``; return the loaded data set."""
    rng = np.random.default_rng(0)
    lines = ["path,label,group,anneal_temperature,cool_method"]
    for k, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(n_per_class):
            # Close frequencies and much noise: the forest makes some errors to show.
            image = striped(rng, 0.5 + 0.08 * k, size, noise=120.0)
            Image.fromarray(image).save(root / name / f"m{i}.png")
            temperature = "" if i % 4 == 0 else str(700 + 50 * i)
            lines.append(f"{name}/m{i}.png,{name},s{k}{i % 2},{temperature},"
                         f"{['WQ', 'AR', 'FC'][i % 3]}")
    (root / "data.csv").write_text("\n".join(lines) + "\n")
    return load_image_dataset(root / "data.csv")


def fit_study(data, vgg):
    """A one-cell study of ``data`` (one layer, mean features, 3 folds, 10 trees)."""
    from sklearn_cnntexture.study import Study

    return Study(vgg, layers=["block1_conv2"], encoders=["mean"], raw_image=False,
                 union=False, n_splits=3, n_repeats=1, n_estimators=10).fit(
        list(data.filenames), data.target)


def fit_predictor(data, vgg):
    """A fitted model of ``data`` (mean features of one layer, 10 trees), its stats and card."""
    from sklearn_cnntexture.model import configuration_pipeline, fit_model, model_card

    X = list(data.filenames)
    pipeline = configuration_pipeline(vgg, ["block1_conv2"], "mean", n_estimators=10)
    model, stats = fit_model(pipeline, X, data.target)
    card = model_card(model, X, data.target,
                      configuration={"layers": ["block1_conv2"], "encoder": "mean",
                                     "model": "rf"})
    return model, stats, card


def write_labelled_predictions(root, vgg, model_name=None):
    """A model's predictions of its own labelled training images, with one heat map each.

    ``vgg`` is the caller's, so that the test naming it is marked ``tf``. Returns the
    predictions' CSV and ``write_predictions``' result (its page beside it).
    """
    from sklearn_cnntexture.model import training_images_among
    from sklearn_cnntexture.report import write_predictions

    data = make_data(root / "data", n_per_class=3)
    model, stats, card = fit_predictor(data, vgg)
    X = list(data.filenames)
    out = root / "runs" / "new.csv"
    out.parent.mkdir()
    result = write_predictions(model, X, out, labels=data.target, feature_stats=stats,
                               explain=1, seen=training_images_among(card, X), card=card,
                               model_name=model_name)
    return out, result
