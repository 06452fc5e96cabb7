"""The study's page: ``index.html`` in the study folder, for a scientist to browse.

The table (sortable), the paper's figures, the best configuration's per-class
scores, confusion matrix and misclassified micrographs from its out-of-fold
predictions, the microstructure map (:mod:`._map`) and how the numbers were
made. Everything the page shows is a file of the folder; the page adds no
number that is not in ``results.csv`` or ``out_of_fold.csv``, except the map's
coordinates.
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _atomic
from ..exceptions import InputError
from ..features._layers import paper_name
from ..features.provenance import provenance_lines
from ..io import records
from ..study._table import PAPER_MODEL, TIME_COLUMN
from ._html import esc, figure, html_table, link, page, section
from ._map import PLOTLY_FILE, embed, map_html, write_plotly_js
from ._thumbs import THUMB_FOLDER, write_thumbnails

__all__ = ["PAGE_FILE", "check_page_data", "display_names", "scores_html", "write_study_page"]

#: Every output folder's page.
PAGE_FILE = "index.html"
#: Columns of a data CSV never offered for colouring the map: they name each image.
_NOT_COLOURS = {"path", "file", "filename"}
#: A column of names with more distinct values than this is not a colouring:
#: a legend of hundreds of names says nothing (the page lists such columns).
MAX_CATEGORIES = 20
_EMBEDDING_NAMES = {"umap": "UMAP", "pca": "PCA", "tsne": "t-SNE"}


def check_page_data(images, X_names, *, what="the study"):
    """Refuse images that are not those the results were computed on.

    Parameters
    ----------
    images : sequence
        The images given for the page (paths or arrays).
    X_names : sequence
        The images of the results, in their order (paths as str).
    what : str
        How to name the results in the message.

    Raises
    ------
    InputError
        If the counts or the files differ (the first differing one named).
    """
    filenames = list(images)
    if len(filenames) != len(X_names):
        raise InputError(f"data has {len(filenames)} images but {what} has {len(X_names)}: "
                         "give the data the results were computed on")
    for k, (a, b) in enumerate(zip(filenames, X_names)):
        if isinstance(a, (str, os.PathLike)) and str(a) != str(b):
            raise InputError(f"data's image {k} is '{a}' but {what}'s is '{b}': give the data "
                             "the results were computed on, in the same order")


def display_names(data, names):
    """Each image's path as a reader knows it: relative to the data's folder or CSV."""
    source = getattr(data, "source", None) if data is not None else None
    root = None
    if source is not None:
        root = Path(source) if Path(source).is_dir() else Path(source).parent
    shown = []
    for item in names:
        if root is not None and isinstance(item, str):
            try:
                shown.append(Path(item).relative_to(root).as_posix())
                continue
            except ValueError:
                pass
        shown.append(str(item) if isinstance(item, (str, os.PathLike)) else f"image {item}")
    return shown


def scores_html(true, predicted, classes):
    """Per-class precision, recall, F1 and support, and the confusion matrix (rows true)."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    true, predicted = np.asarray(true).astype(str), np.asarray(predicted).astype(str)
    classes = [str(c) for c in classes]
    p, r, f, s = precision_recall_fscore_support(true, predicted, labels=classes,
                                                 zero_division=0)
    per_class = pd.DataFrame({"class": classes, "precision": p, "recall": r, "F1": f,
                              "images": s.astype(int)})
    per_class.loc[len(per_class)] = ["macro mean", p.mean(), r.mean(), f.mean(), int(s.sum())]
    matrix = confusion_matrix(true, predicted, labels=classes)
    top = max(int(matrix.max()), 1)
    heads = "".join(f"<th>{esc(c)}</th>" for c in classes)
    rows = []
    for name, counts in zip(classes, matrix):
        cells = "".join(
            f'<td class="num" style="background:rgba(31,119,180,{0.85 * n / top:.2f});'
            f'color:{"#fff" if n / top > 0.55 else "#000"}">{n}</td>' for n in counts)
        rows.append(f"<tr><th>{esc(name)}</th>{cells}</tr>")
    confusion = ('<table class="confusion"><thead><tr><th>true \\ predicted</th>'
                 f"{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    accuracy = float(np.mean(true == predicted)) if len(true) else float("nan")
    return (f"<p>Accuracy {accuracy:.3f} on {len(true)} images.</p>"
            f'<div class="grid"><div>{html_table(per_class)}</div><div>{confusion}</div></div>')


def _errors_html(oof, shown_names, thumbs, classes):
    """The misclassified micrographs: thumbnail, file, true and predicted class, probabilities."""
    wrong = (oof["true"].astype(str) != oof["predicted"].astype(str)).to_numpy()
    if not wrong.any():
        return "<p>No micrograph is misclassified out of fold.</p>", wrong
    rows = []
    for i in np.flatnonzero(wrong):
        row = oof.iloc[i]
        probability = {c: row.get(f"probability_{c}") for c in classes}
        thumb = (f'<img class="thumb" loading="lazy" src="{esc(thumbs[i])}" alt="">'
                 if thumbs is not None else "")
        rows.append({
            "micrograph": thumb, "file": f'<span class="path">{esc(shown_names[i])}</span>',
            "true": str(row["true"]), "predicted": str(row["predicted"]),
            "p(predicted)": probability.get(str(row["predicted"])),
            "p(true)": probability.get(str(row["true"])), "fold": int(row["fold"]),
            "_index": int(i),
        })
    frame = pd.DataFrame(rows)
    if frame["p(predicted)"].isna().all():  # a model without probabilities
        frame = frame.drop(columns=["p(predicted)", "p(true)"])
    table = html_table(frame.drop(columns="_index"), sortable=True, raw={"micrograph", "file"},
                       table_id="misclassified")
    # Each row names its image's index, so a test (or a script) can match the list.
    for index in frame["_index"]:
        table = table.replace("<tr><td>", f'<tr data-index="{index}"><td>', 1)
    return (f"<p>{int(wrong.sum())} of {len(wrong)} micrographs misclassified by the best "
            "configuration, each predicted by the model fitted on the other folds.</p>"
            + table), wrong


def _regression_errors_html(oof, shown_names, thumbs, shown=30):
    error = (oof["predicted"].astype(float) - oof["true"].astype(float)).to_numpy()
    order = np.argsort(-np.abs(error))[:shown]
    frame = pd.DataFrame({
        "micrograph": [f'<img class="thumb" loading="lazy" src="{esc(thumbs[i])}" alt="">'
                       if thumbs is not None else "" for i in order],
        "file": [f'<span class="path">{esc(shown_names[i])}</span>' for i in order],
        "true": oof["true"].to_numpy()[order].astype(float),
        "predicted": oof["predicted"].to_numpy()[order].astype(float),
        "error": error[order],
    })
    mae = float(np.mean(np.abs(error)))
    return (f"<p>Mean absolute error {mae:.3g} on {len(error)} images; the {len(order)} "
            "largest errors:</p>" + html_table(frame, sortable=True, raw={"micrograph", "file"},
                                               table_id="largest-errors"))


def _results_table(study):
    table = study.results_.drop(columns="params").copy()
    metric = study.metric_
    table.insert(1, "paper", [paper_name(layer) for layer in table["layer"]])
    table = table.rename(columns={TIME_COLUMN: "fit + score per fold (s)"})
    best = study.results_[f"{metric}_mean"].idxmax()
    table["_best"] = table.index == best
    html = html_table(table.drop(columns="_best"), sortable=True, table_id="results",
                      row_class=lambda row: "best" if table.loc[row.name, "_best"] else None)
    return html


def _colourings(study, oof, data):
    """The map's colourings: class (or target), prediction, group, then the data's columns."""
    columns = {}
    skipped = []
    if study.task_ == "classification":
        columns["class"] = oof["true"].astype(str).to_numpy()
        columns["predicted (out of fold)"] = oof["predicted"].astype(str).to_numpy()
    else:
        columns["target"] = oof["true"].astype(float).to_numpy()
        columns["predicted (out of fold)"] = oof["predicted"].astype(float).to_numpy()
    if getattr(data, "groups", None) is not None:
        columns["group"] = np.asarray(data.groups).astype(str)
    frame = getattr(data, "frame", None)
    if frame is not None:
        for name in frame.columns:
            if name in _NOT_COLOURS or name in ("label", "target", "group"):
                continue
            values = frame[name]
            numeric = pd.api.types.is_numeric_dtype(values)
            if not numeric and values.nunique() > MAX_CATEGORIES:
                skipped.append(f"{name} ({values.nunique()} distinct names)")
                continue
            columns[name] = values.to_numpy()
    return columns, skipped


def _map_section(study, data, X, oof, shown_names, thumbs, wrong, embedding):
    from sklearn.base import clone

    # The best configuration's features, as its model sees them: the study's
    # network settings (and cache: no forward pass where the study filled it).
    transform = clone(study.search_.estimator).set_params(**study.best_["params"])[:-1]
    features = transform.fit_transform(X, np.asarray(data.target))
    xy, seconds = embed(np.asarray(features), method=embedding)
    columns, skipped = _colourings(study, oof, data)
    best = study.best_
    title = (f"{len(xy)} micrographs by the {best['encoder']} features of {best['layer']} "
             f"({np.asarray(features).shape[1]} features), {_EMBEDDING_NAMES[embedding]}")
    html = map_html(xy, columns, names=shown_names, thumbs=thumbs,
                    wrong=wrong if study.task_ == "classification" else None, title=title)
    method = _EMBEDDING_NAMES[embedding]
    notes = [f"One point per micrograph ({len(xy)}), placed by {method} of the best "
             f"configuration's standardized features ({seconds:.1f} s). "
             "Near points have similar textures; the axes have no unit"
             + ("" if embedding == "pca" else
                ", and distances between clusters say little (only neighbours count)")
             + ". "
             "Rings mark the out-of-fold errors. The menu above the map changes the colours."]
    if skipped:
        notes.append("Not offered as colours (one name per image, or nearly): "
                     + ", ".join(skipped) + ".")
    return section("Microstructure map", "".join(f'<p class="note">{esc(n)}</p>'
                                                  for n in notes), html, section_id="map")


def write_study_page(study, directory, *, data=None, X=None, name=None, embedding="umap",
                     links=()):
    """Write the study's ``index.html`` (and, with ``data``, its thumbnails and map).

    Call after the study's files are written (the page shows its figures).

    Parameters
    ----------
    study : Study
        Fitted.
    directory : path
        The study folder.
    data : Bunch, optional
        The study's data (:func:`~sklearn_cnntexture.load_image_dataset`):
        its images for the thumbnails and the map, its groups and columns for
        the map's colours. Without it the page says that it has neither.
    X : list or DataFrame, optional
        The images as the study was fitted on them (a table of images with
        their pixel sizes, say); default ``data.filenames``.
    name : str, optional
        The data's name.
    embedding : {"umap", "pca", "tsne"}, default="umap"
        The map's embedding (:func:`~sklearn_cnntexture.report._map.embed`).
    links : sequence of (href, text)
        Pages of the same study to link (relative paths).

    Returns
    -------
    paths : list of pathlib.Path
        ``index.html``, and with ``data`` ``plotly.min.js`` and ``thumbs/``.
    """
    directory = Path(directory)
    oof = study.oof_predictions_.reset_index(drop=True)
    if data is not None:
        X = list(data.filenames) if X is None else X
        check_page_data(records.images_of(X), list(oof["image"]))
    best, metric = study.best_, study.metric_
    classes = None if study.task_ != "classification" else sorted(oof["true"].astype(str).unique())
    shown_names = display_names(data, list(oof["image"]))
    paths = []
    thumbs = None
    if data is not None:
        thumbs = write_thumbnails(list(records.images_of(X)), directory)
        paths.append(directory / THUMB_FOLDER)

    data_line = ", ".join(x for x in [
        name, f"{study.n_images_} images",
        f"{study.n_classes_} classes" if study.n_classes_ else "regression",
        study.cv_description_, f"scoring {study.scoring_}",
        None if study.chance_ is None else f"chance level {study.chance_:.3f}"] if x)
    several = study.results_["model"].nunique() > 1
    headline = (f"<p><b>Best configuration: {esc(best['encoder'])} of {esc(best['layer'])} "
                f"({esc(paper_name(best['layer']))})"
                + (f", {esc(best['model'])}" if several else "")
                + f"</b>, {esc(metric)} = {best[metric + '_mean']:.3f} ± "
                f"{best[metric + '_std']:.3f} ({best['n_features']} features).</p>"
                f"<p>{esc(data_line)}.</p>")
    if study.nested_ is not None:
        headline += (f'<p class="note">Number to report: {study.nested_.mean:.3f} ± '
                     f"{study.nested_.std:.3f}, the nested cross-validation estimate of "
                     "running this whole selection; the best cell's score above is "
                     "optimistic.</p>")
    if data is None:
        headline += ('<p class="warn">Written without the study\'s data: no thumbnails and no '
                     "microstructure map (write_study(..., data=...) adds them).</p>")

    figures = [figure(f"{stem}.png", caption) for stem, caption in [
        ("study", f"{metric} per layer, one line per encoder (the paper's Fig. 6); "
                  "dashed: the raw image, no CNN; grey: chance"),
        ("union", "mean features of each layer against their union (the paper's Fig. 7)"),
        ("models", "Fig. 6 once per model")] if (directory / f"{stem}.png").is_file()]
    paper_rows = " (the paper's model's rows)" if several and (
        study.results_["model"] == PAPER_MODEL).any() else ""

    parts = [headline,
             section("Results", "<p>Click a header to sort; the best row is highlighted.</p>",
                     _results_table(study), section_id="results"),
             section("Figures" + paper_rows, *figures, section_id="figures")]
    oof_note = (f"<p>The best configuration ({esc(best['encoder'])} of "
                f"{esc(best['layer'])}), each image predicted by a model fitted on the folds "
                "without it: the first repeat of the study's folds "
                f"(<a href=\"out_of_fold.csv\">out_of_fold.csv</a>).</p>")
    if classes is not None:
        errors, wrong = _errors_html(oof, shown_names, thumbs, classes)
        parts += [section("Per-class scores, out of fold", oof_note,
                          scores_html(oof["true"], oof["predicted"], classes),
                          section_id="scores"),
                  section("Misclassified micrographs", errors, section_id="errors")]
    else:
        wrong = None
        parts.append(section("Largest errors, out of fold", oof_note,
                             _regression_errors_html(oof, shown_names, thumbs),
                             section_id="errors"))
    scripts = []
    if data is not None:
        parts.append(_map_section(study, data, X, oof, shown_names, thumbs, wrong, embedding))
        paths.append(write_plotly_js(directory))
        scripts.append(PLOTLY_FILE)
    # summary.md is written after the page: the folder's mark of a finished study.
    files = ["results.csv", "out_of_fold.csv", "study.json", "summary.md"]
    parts.append(section(
        "How these numbers were made",
        "<ul>" + "".join(f"<li>{esc(line[2:])}</li>" for line in
                         provenance_lines(study.provenance_)) + "</ul>",
        "<p>Files: " + ", ".join(link(f, f) for f in files) + ".</p>",
        section_id="provenance"))
    text = page("Layer x encoder study" + (f": {name}" if name else ""), "".join(parts),
                nav=[("#results", "results"), ("#scores", "per-class scores"),
                     ("#errors", "errors"), *([("#map", "map")] if data is not None else []),
                     *links], scripts=scripts)
    paths.insert(0, _atomic.write_text(directory / PAGE_FILE, text))
    return paths
