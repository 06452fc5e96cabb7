"""Writing results to a folder: the study's and the explanations' tables, figures, summaries.

One job: files. Every file is written whole or not at all (a temporary file,
then a rename), and each folder's summary last: a folder with a summary holds
complete results, whatever happened to an earlier run. Every folder written
is marked as the library's output, so that it is never read back as data,
and every summary says how its results were made (weights and their content
digest, crop, resize, versions).
"""

import json
import os
from collections import Counter
from numbers import Integral
from pathlib import Path

from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted

from .. import _atomic
from ..exceptions import InputError
from ..features._layers import IMAGE_LAYER, paper_name
from ..features.provenance import provenance, provenance_lines
from ..features.union import UNION
from ..io import records
from ..io.datasets import mark_output_folder
from ..study import CONFIG_FILE, OUT_OF_FOLD_FILE, Study, study_config
from ..study._table import (
    NO_TEXTURE,
    PAPER_MODEL,
    TIME_COLUMN,
    describe_layer,
    describe_row,
    model_rows,
    scale_rows,
    source_rows,
)
from ._explain_page import write_explanation_page
from ._map import EMBEDDINGS
from ._predict_page import write_prediction_page

__all__ = [
    "explained_folder",
    "explanation_summary",
    "prepare_output_folder",
    "study_summary",
    "write_explanations",
    "write_predictions",
    "write_study",
]


def prepare_output_folder(directory):
    """Create ``directory`` (if need be), mark it as output, and remove its summary.

    Without its summary, a folder does not look finished until the new one
    is written last.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    mark_output_folder(directory)
    (directory / "summary.md").unlink(missing_ok=True)
    return directory


@validate_params({"study": [Study]}, prefer_skip_nested_validation=True)
def study_summary(study):
    """A short markdown report of a study: the best configuration, ties, then the table.

    Parameters
    ----------
    study : Study
        Fitted.

    Returns
    -------
    text : str
    """
    check_is_fitted(study)
    table, metric = study.results_, study.metric_
    mean, std = f"{metric}_mean", f"{metric}_std"
    best = study.best_
    several = "model" in table.columns and table["model"].nunique() > 1
    sourced = "source" in table.columns
    scaled = "pixel_size" in table.columns
    with_model = f", {best['model']}" if several else ""
    lines = [
        "# Layer x encoder study",
        "",
        f"**Best configuration: {describe_row(best)}{with_model}**, "
        f"{metric} = {best[mean]:.3f} ± {best[std]:.3f} ({best['n_features']} features).",
        "",
        *_nested_lines(study.nested_, best, mean, len(table)),
        *_tie_lines(study.ties_, mean, std),
        *(_model_lines(table, mean, std) if several else []),
        *_source_lines(model_rows(table), mean, std, study.columns),
        *_scale_lines(model_rows(source_rows(table)), mean, std),
        *_highlight_lines(model_rows(source_rows(table)), mean, std),
        f"- {study.n_images_} images, {study.cv_description_}; scoring {study.scoring_}. "
        f"Features computed in {study.featurize_time_:.0f} s, models fitted in "
        f"{study.fit_time_:.0f} s.",
        *[f"- {note}" for note in study.notes_],
        *provenance_lines(study.provenance_),
        "",
        f"| {'source | ' if sourced else ''}{'pixel size | ' if scaled else ''}layer | paper | "
        f"encoder | model | features | {metric} mean | {metric} std | fit + score per fold "
        "(s) |",
        "|" + "---|" * (sourced + scaled) + "---|---|---|---|---:|---:|---:|---:|",
    ]
    for _, row in table.iterrows():
        lines.append(
            f"| {row['source'] + ' | ' if sourced else ''}"
            f"{str(row['pixel_size']) + ' | ' if scaled else ''}{row['layer']} | "
            f"{paper_name(row['layer']) if row['layer'] != NO_TEXTURE else NO_TEXTURE} | "
            f"{row['encoder']} | "
            f"{row.get('model', PAPER_MODEL)} | {row['n_features']} | {row[mean]:.3f} | "
            f"{row[std]:.3f} | {row[TIME_COLUMN]:.1f} |"
        )
    return "\n".join(lines) + "\n"


def _nested_lines(nested, best, mean, n_candidates):
    if nested is None:
        return []
    picked = ", ".join(f"{name} ({count}x)" for name, count in
                       Counter(nested.winners).most_common())
    return [
        f"**Number to report: {nested.mean:.3f} ± {nested.std:.3f}**, the nested "
        f"cross-validation estimate of running this whole selection and using its winner "
        f"({nested.description}; {nested.time:.0f} s). The best cell's "
        f"{best[mean]:.3f} is optimistic: it is the highest of {n_candidates} scores, each "
        "noisy, measured on the folds that chose it. The outer folds' selections picked: "
        f"{picked}.",
        "",
    ]


def _model_lines(table, mean, std):
    """One line per model: its best cell, the paper's protocol first."""
    lines = ["| model | best cell | " + mean.replace("_mean", "") + " |", "|---|---|---:|"]
    for model, rows in table.groupby("model", sort=False):
        top = rows.loc[rows[mean].idxmax()]
        note = " (the paper's protocol)" if model == PAPER_MODEL else ""
        lines.append(f"| {model}{note} | {top['encoder']} of {describe_layer(top['layer'])} | "
                     f"{top[mean]:.3f} ± {top[std]:.3f} |")
    return ["Best cell of each model:", "", *lines, "",
            "The bullets below are the paper's model's rows."
            if (table["model"] == PAPER_MODEL).any() else "", ""]


def _tie_lines(tied, mean, std, shown=10):
    if not len(tied):
        return []
    several = "model" in tied.columns and tied["model"].nunique() > 1
    names = "; ".join(f"{row['encoder']} of {describe_layer(row['layer'])}"
                      + (f", {row['model']}" if several else "")
                      + f" ({row[mean]:.3f} ± {row[std]:.3f})"
                      for _, row in tied.head(shown).iterrows())
    more = f"; and {len(tied) - shown} more (see the table)" if len(tied) > shown else ""
    return [f"Within one standard deviation of it ({len(tied)}, not told apart by this "
            f"study): {names}{more}.", ""]


def _highlight_lines(table, mean, std):
    lines = []
    single = table[~table["layer"].isin([UNION, IMAGE_LAYER])]
    if len(single):
        top = single.loc[single[mean].idxmax()]
        lines.append(f"- Best single layer: {top['encoder']} of {describe_layer(top['layer'])}, "
                     f"{top[mean]:.3f} ± {top[std]:.3f}.")
    for _, row in table[table["layer"] == UNION].iterrows():
        lines.append(f"- Union of the layers' {row['encoder']} features: "
                     f"{row[mean]:.3f} ± {row[std]:.3f}.")
    raw = table[table["layer"] == IMAGE_LAYER]
    if len(raw):
        top = raw.loc[raw[mean].idxmax()]
        lines.append(f"- Best on the raw image (no CNN): {top['encoder']}, "
                     f"{top[mean]:.3f} ± {top[std]:.3f}.")
    return lines


def _best_rows(groups, mean, std):
    """A markdown row per (name, rows) that has rows: the best of them, named and scored."""
    lines = []
    for name, rows in groups:
        if len(rows):
            top = rows.loc[rows[mean].idxmax()]
            lines.append(f"| {name} | {describe_row(top)} | {top[mean]:.3f} ± {top[std]:.3f} |")
    return lines


def _scale_lines(table, mean, std):
    """Magnification or microstructure: the best row of the micrograph at each scale."""
    if "pixel_size" not in table.columns:
        return []
    lines = ["Magnification or microstructure: the micrograph's best row at each scale "
             "(native pixels, or every image resampled to a common pixel size):", "",
             "| scale | best row | score |", "|---|---|---:|"]
    scales = table.groupby(table["pixel_size"].astype(str), sort=False)
    named = [("native pixels" if scale == "native" else f"{scale} um per pixel", rows)
             for scale, rows in scales]
    lines += _best_rows(named, mean, std)
    return [*lines, ""]


def _source_lines(table, mean, std, columns):
    """What the micrograph adds to the process record: the best row of each source."""
    if "source" not in table.columns:
        return []
    lines = [f"What the micrograph adds to the data columns ({', '.join(columns or [])}), "
             "best row of each source:", "", "| source | best row | score |", "|---|---|---:|"]
    lines += _best_rows(((source, table[table["source"] == source])
                         for source in ("image", "both", "columns")), mean, std)
    return [*lines, "", "The bullets below are the micrograph's own rows (source image).", ""]


@validate_params(
    {"study": [Study], "directory": [str, os.PathLike], "name": [str, None],
     "data": [dict, None], "X": ["array-like", None],
     "embedding": [StrOptions(set(EMBEDDINGS))]},
    prefer_skip_nested_validation=True,
)
def write_study(study, directory, *, name=None, data=None, X=None, embedding="umap"):
    """Write a fitted study to a folder: table, configuration, figures and summary.

    Files: ``results.csv`` (layer, encoder, model, n_features, <metric>_mean,
    <metric>_std, fit_score_s_per_fold), ``study.json`` (the study's
    parameters, the network settings among them, and what it found:
    :func:`~sklearn_cnntexture.study.study_config`, which
    :func:`~sklearn_cnntexture.study.load_study`, ``cnntexture explain
    --study`` and ``cnntexture fit --study`` read back), ``study.png/.svg``
    (the paper's Fig. 6: score per layer, one series per encoder, the
    raw-image baselines dashed), ``union.png/.svg`` (Fig. 7: mean features per
    layer vs their union; only with a union; both from the paper's forest's
    rows when the study compared several models), ``models.png/.svg`` (Fig. 6
    once per model, only with several models), ``sources.png/.svg`` (with data
    columns: the micrograph, the columns beside it and the columns alone,
    :func:`~sklearn_cnntexture.plotting.plot_sources`), ``scales.png/.svg``
    (with compared pixel sizes: each scale's score per layer,
    :func:`~sklearn_cnntexture.plotting.plot_scales`) and ``summary.md`` (with the
    nested-CV estimate, the number to report, when the study ran it),
    ``out_of_fold.csv`` (the best configuration's out-of-fold predictions,
    ``Study.oof_predictions_``) and ``index.html``, the page a person browses
    (:func:`~sklearn_cnntexture.report.write_study_page`: the sortable table,
    the figures, per-class scores, confusion matrix and misclassified
    micrographs; with `data`, their thumbnails in ``thumbs/`` and the
    microstructure map, whose script ``plotly.min.js`` sits beside it). Each
    file is written whole or not at all, and ``summary.md`` last, so a folder
    with a summary holds a complete study.

    Parameters
    ----------
    study : Study
        Fitted.
    directory : str or path
        Created if need be, and marked as an output folder.
    name : str, optional
        The data's name (its folder or CSV), shown in the figures' titles with
        the image and class counts and the folds.
    data : Bunch, optional
        The data the study was fitted on
        (:func:`~sklearn_cnntexture.load_image_dataset`), same images in the
        same order: the page's thumbnails and map need its images, and colour
        the map by its groups and columns. The map's features come from the
        study's network cache (no forward pass where the study filled it).
    X : list or DataFrame, optional
        The images exactly as given to ``Study.fit`` (a table of images with
        their pixel sizes, say), for the map's features; default
        ``data.filenames``.
    embedding : {"umap", "pca", "tsne"}, default="umap"
        How the map places the micrographs in 2-D (measured: UMAP separates
        the classes as well as t-SNE, 10-15 times faster; PCA mixes them).

    Returns
    -------
    paths : list of pathlib.Path

    Raises
    ------
    InputError
        If `data` is not the study's images in the study's order (checked
        before anything is written).
    """
    from .. import plotting
    from ._study_page import check_page_data, write_study_page

    check_is_fitted(study)
    if data is not None:
        images = records.images_of(X) if X is not None else data.filenames
        check_page_data(images, list(study.oof_predictions_["image"]))
    if data is not None and embedding == "umap":  # the map, before any file
        _require("umap", "embedding='umap' needs umap-learn: pip install umap-learn")
    directory = prepare_output_folder(directory)
    table = study.results_.drop(columns="params")
    config = study_config(study)
    paths = [
        _atomic.write_text(directory / "results.csv", table.to_csv(index=False)),
        _atomic.write_text(directory / CONFIG_FILE, json.dumps(config, indent=1) + "\n"),
    ]
    # study.png and union.png are the paper's Figs. 6 and 7, drawn from the paper's
    # model's rows; models.png shows every model's Fig. 6, one panel each.
    # The paper's figures are of the micrograph's own textures (source "image") at
    # one scale (the first compared); sources.png compares them with the data
    # columns, scales.png the scales.
    own = scale_rows(source_rows(study.results_))
    paper = model_rows(own)
    # Every figure says what it was made of, and where a blind guess would score.
    shown = dict(metric=study.metric_, chance=study.chance_,
                 data=plotting.describe_data(name, n_images=study.n_images_,
                                             n_classes=study.n_classes_,
                                             cv=study.cv_description_))
    if len(paper):  # a study of the data columns alone has no textures to draw
        figure = plotting.plot_study(paper, **shown)
        paths += plotting.save_figure(figure, directory / "study.png")
    if (paper["layer"] == UNION).any():
        figure = plotting.plot_union(paper, **shown)
        paths += plotting.save_figure(figure, directory / "union.png")
    if len(own) and own["model"].nunique() > 1:
        figure = plotting.plot_models(own, **shown)
        paths += plotting.save_figure(figure, directory / "models.png")
    if "source" in study.results_.columns:
        figure = plotting.plot_sources(model_rows(scale_rows(study.results_)),
                                       metric=study.metric_, chance=study.chance_,
                                       columns=study.columns, data=shown["data"])
        paths += plotting.save_figure(figure, directory / "sources.png")
    if "pixel_size" in study.results_.columns:
        figure = plotting.plot_scales(model_rows(study.results_), **shown)
        paths += plotting.save_figure(figure, directory / "scales.png")
    paths.append(_atomic.write_text(directory / OUT_OF_FOLD_FILE,
                                    study.oof_predictions_.to_csv(index=False)))
    paths += write_study_page(study, directory, data=data, X=X, name=name, embedding=embedding)
    paths.append(_atomic.write_text(directory / "summary.md", study_summary(study)))
    return [Path(p) for p in paths]


def _require(module, message):
    from importlib.util import find_spec

    if find_spec(module) is None:
        raise InputError(message)


def write_explanations(explanation, directory, *, study=None, links=()):
    """Write an explanation's figures, tables and page to a folder.

    Files: ``textures.png/.svg`` (Fig. 8: each layer's most important
    filters' textures), ``important_textures.png/.svg`` (Fig. 9: the top
    textures with each class's mean activation), ``heatmaps.png/.svg``
    (Fig. 10: for each class a micrograph beside the heat map of its
    characteristic filter), ``characteristic_textures.png/.svg`` (Figs.
    11-12: each class's characteristic texture under example micrographs),
    ``important_textures.csv``, ``characteristic_textures.csv`` (a
    ``texture`` column names each filter as the figures do, ``C3,3 #174``:
    :func:`~sklearn_cnntexture.plotting.filter_label`), ``index.html`` (the
    page: textures beside their numbers and heat maps, with ``textures/`` and
    ``heatmaps/``) and, last, ``summary.md``.

    Parameters
    ----------
    explanation : Bunch
        From :func:`~sklearn_cnntexture.explain.explain_model`.
    directory : str or path
    study : str or path, optional
        The study folder whose best model this explains (``explain
        --study``): the page links the study's page.
    links : sequence of (href, text)
        Other pages to link (relative to `directory`).

    Returns
    -------
    paths : list of pathlib.Path
    """
    import numpy as np

    from .. import io, plotting

    directory = prepare_output_folder(directory)
    e = explanation
    classes = [str(c) for c in np.unique(e.y)]
    top = e.important.head(e.top_k).reset_index(drop=True)
    label = plotting.filter_label
    # The texture column: each filter named as on the figures and the page.
    named = top.copy()
    named.insert(0, "texture", [label(r.layer, r.filter) for r in top.itertuples()])
    characteristic = e.characteristic.copy()
    characteristic.insert(1, "texture", [label(r.layer, r.filter)
                                         for r in e.characteristic.itertuples()])
    paths = [
        _atomic.write_text(directory / "important_textures.csv", named.to_csv(index=False)),
        _atomic.write_text(directory / "characteristic_textures.csv",
                           characteristic.to_csv(index=False)),
    ]

    grid, labels = {}, {}
    for layer, group in e.important.groupby("layer", sort=False):
        keys = [(layer, int(f)) for f in group.head(e.per_layer)["filter"]]
        grid[layer] = [e.textures[k] for k in keys]
        labels[layer] = [label(*k) for k in keys]
    figure = plotting.plot_texture_grid(grid, labels, ncols=e.per_layer,
                                        title="Each layer's most important filters")
    paths += plotting.save_figure(figure, directory / "textures.png")

    figure = plotting.plot_important_textures(
        [e.textures[(row.layer, int(row.filter))] for row in top.itertuples()], top,
        class_names=classes,
    )
    paths += plotting.save_figure(figure, directory / "important_textures.png")

    figure = plotting.plot_heatmaps(e.heatmaps, _first_names(e))
    paths += plotting.save_figure(figure, directory / "heatmaps.png")

    examples, textures, values = {}, {}, {}
    for row in e.characteristic.itertuples(index=False):
        cls = str(row[0])
        members = [x for x, label_ in zip(e.X, e.y) if str(label_) == cls][:2]
        examples[cls] = [io.read_image(x) if io.is_image_path(x) else np.asarray(x)
                         for x in members]
        key = (row.layer, int(row.filter))
        textures.setdefault(cls, []).append((label(*key), e.textures[key]))
        values.setdefault(cls, []).append(f"d = {row.statistic:.2f}")
    figure = plotting.plot_characteristic_textures(textures, examples, values,
                                                   class_names=classes)
    paths += plotting.save_figure(figure, directory / "characteristic_textures.png")
    paths += write_explanation_page(e, directory, study=study, links=links)
    paths.append(_atomic.write_text(directory / "summary.md", explanation_summary(e)))
    return [Path(p) for p in paths]


def _first_names(explanation):
    """The file name of each class's first micrograph: the one its heat map is drawn on."""
    names = {}
    for k, (item, label_) in enumerate(zip(explanation.X, explanation.y)):
        if label_ not in names:
            names[label_] = (Path(item).name if isinstance(item, (str, os.PathLike))
                             else f"image {k}")
    return names


def explanation_summary(explanation):
    """A short markdown report: the model, the top textures, each class's characteristic one."""
    e = explanation
    classes = [str(c) for c in sorted(set(e.y))]
    means = [f"mean_{c}" for c in classes]
    steps = " -> ".join(type(step).__name__ for _, step in e.model.steps)
    lines = [
        "# What the model sees",
        "",
        f"Model: {steps}, fitted on {len(e.y)} micrographs of {len(classes)} classes.",
        "",
        *provenance_lines(provenance(e.model.named_steps["vgg"])),
        "",
        f"## Top {e.top_k} important textures (random-forest importance)",
        "",
        "| rank | layer | filter | importance | " + " | ".join(means) + " |",
        "|---:|---|---:|---:|" + "---:|" * len(means),
    ]
    for rank, row in enumerate(e.important.head(e.top_k).to_dict("records"), 1):
        values = " | ".join(f"{row[m]:.3g}" for m in means)
        lines.append(f"| {rank} | {paper_name(row['layer'])} | {row['filter']} | "
                     f"{row['importance']:.4f} | {values} |")
    lines += ["", "## Characteristic texture of each class (Cohen's d, class vs the rest)", "",
              "| class | layer | filter | d | " + " | ".join(means) + " |",
              "|---|---|---:|---:|" + "---:|" * len(means)]
    for row in e.characteristic.to_dict("records"):
        values = " | ".join(f"{row[m]:.3g}" for m in means)
        lines.append(f"| {row['class']} | {paper_name(row['layer'])} | {row['filter']} | "
                     f"{row['statistic']:.2f} | {values} |")
    return "\n".join(lines) + "\n"


def explained_folder(out):
    """Where :func:`write_predictions` puts its heat maps: ``OUT-explained/`` beside ``out``."""
    out = Path(out)
    return out.with_name(out.stem + "-explained")


@validate_params(
    {
        "model": [HasMethods(["predict"])],
        "X": ["array-like"],
        "out": [str, os.PathLike],
        "labels": ["array-like", None],
        "feature_stats": [dict, None],
        "explain": [Interval(Integral, 1, None, closed="left"), None],
        "seen": [list, None],
        "card": [dict, None],
        "model_name": [str, None],
        "links": [list, tuple],
    },
    prefer_skip_nested_validation=True,
)
def write_predictions(model, X, out, *, labels=None, feature_stats=None, explain=None,
                      seen=None, card=None, model_name=None, links=()):
    """Predict images and write the predictions, their scores and their heat maps.

    Files: ``out`` (CSV: path, label where known, predicted class, each
    class's probability; or the predicted value), ``OUT.confusion.png``
    (with labels, a classifier's) and, with ``explain``, one figure per
    image in ``OUT-explained/`` (:func:`explained_folder`) mirroring the
    images' folders, so that images of the same name never overwrite each
    other; last, the page ``OUT.html`` with its thumbnails in ``OUT-page/``
    (:func:`prediction_page_paths`): each image's thumbnail, predicted class,
    probabilities and heat map, the counts per class, the scores and
    confusion matrix with labels, the model card, and a warning when images
    were in the training set.

    Parameters
    ----------
    model : Pipeline
        Fitted (:func:`~sklearn_cnntexture.model.file.load_model`).
    X : list of str
        Image files.
    out : str or path
        The CSV to write.
    labels : array-like of str, optional
        The images' classes, to score the predictions.
    feature_stats : dict, optional
        The model file's training feature statistics (needed with ``explain``).
    explain : int, optional
        Heat maps of the filters most supporting each prediction.
    seen : list, optional
        The images among `X` the model was trained on
        (:func:`~sklearn_cnntexture.model.file.training_images_among`): the
        page warns about them.
    card : dict, optional
        The model card (:func:`~sklearn_cnntexture.model.file.read_card`),
        shown on the page.
    model_name : str, optional
        The model file's name, for the page.
    links : sequence of (href, text)
        Other pages of the same study (relative to `out`'s folder).

    Returns
    -------
    result : Bunch
        ``table``, ``counts`` (predictions per class, or None for a
        regressor), ``scores`` (:func:`~sklearn_cnntexture.model.predict.score_predictions`,
        or None) and ``written`` (paths).
    """
    import matplotlib.pyplot as plt
    from sklearn.base import is_classifier
    from sklearn.utils import Bunch

    from ..model.predict import (
        explained_figure_paths,
        heatmap_figure,
        plot_confusion,
        predict_table,
        score_predictions,
        supporting_filters,
    )

    out = Path(out)
    table, features = predict_table(model, X)
    classifier = is_classifier(model.steps[-1][1])
    counts = scores = figures = None
    written = [out]
    if classifier:
        classes = [str(c) for c in model.classes_]
        counts = table["predicted"].astype(str).value_counts().reindex(classes, fill_value=0)
    if labels is not None and classifier:
        table.insert(1, "label", labels)
        scores = score_predictions(labels, table["predicted"], classes)
        figure = plot_confusion(scores)
        figure.savefig(out.with_suffix(".confusion.png"), dpi=120)
        plt.close(figure)
        written.append(out.with_suffix(".confusion.png"))
    with _atomic.atomic_path(out) as tmp:
        table.to_csv(tmp, index=False)
    if explain:
        folder = mark_output_folder(explained_folder(out))
        chosen = supporting_filters(model, features, table["predicted"], feature_stats, explain)
        figures = explained_figure_paths(folder, X)
        images = records.images_of(X)
        vgg = model.named_steps["vgg"]
        # Each image's own scale, as its features were resampled: X's or its file's.
        sizes = (vgg.image_pixel_sizes(X) if vgg.pixel_size is not None
                 else [None] * len(images))
        for item, size, pairs, label, path in zip(images, sizes, chosen, table["predicted"],
                                                  figures):
            pairs = [(layer, f) for layer, f in pairs if layer != IMAGE_LAYER]
            figure = heatmap_figure(model, item, pairs, pixel_size=size,
                                    title=f"{Path(item).name}: {label}")
            path.parent.mkdir(parents=True, exist_ok=True)
            figure.savefig(path, dpi=100)
            plt.close(figure)
        written.append(folder)
    written += write_prediction_page(
        table, out, classes=classes if classifier else None,
        labels=labels if classifier else None, seen=seen, card=card, model_name=model_name,
        figures=figures if explain else None, links=links)
    return Bunch(table=table, counts=counts, scores=scores, written=written)
