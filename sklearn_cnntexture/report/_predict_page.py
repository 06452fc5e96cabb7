"""The predictions' page: ``OUT.html`` beside the predictions' ``OUT.csv``.

Predictions are one CSV file, not a folder, so the page sits beside it and
keeps its thumbnails in ``OUT-page/``; the heat maps of ``--explain`` are in
``OUT-explained/`` beside them. Every file the page shows is in the CSV's
folder: the page never reaches above it (links to the study's page, a
navigation, are the one exception, and only when the study's folder exists).
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import validate_params

from .. import _atomic
from ._html import esc, html_table, page, section
from ._study_page import display_names, scores_html
from ._thumbs import write_thumbnails

__all__ = ["prediction_page_paths", "write_prediction_page"]


@validate_params({"out": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def prediction_page_paths(out):
    """Every path the predictions' page writes for the CSV ``out``: its page and its folder.

    Parameters
    ----------
    out : str or path
        The predictions' CSV file.

    Returns
    -------
    page, folder : pathlib.Path
        ``OUT.html`` and ``OUT-page/`` (the thumbnails), beside ``out``.

    Examples
    --------
    >>> [p.as_posix() for p in prediction_page_paths("runs/new.csv")]
    ['runs/new.html', 'runs/new-page']
    """
    out = Path(out)
    return out.with_suffix(".html"), out.with_name(out.stem + "-page")


def _card_html(card, model_name):
    """The model card, as a short list: configuration, study score, training images, weights."""
    if card is None:
        return f"<p>Model: {esc(model_name)}.</p>" if model_name else ""
    config = card.get("configuration") or {}
    score = card.get("cv_score")
    items = []
    if config:
        items.append(f"configuration: {config.get('encoder')} of "
                     f"{', '.join(config.get('layers', []))}, {config.get('model')}")
    items.append("study CV score: " + (
        f"{score['metric']} {score['mean']:.3f} ± {score['std']:.3f}" if score
        else "none (not chosen by a study)"))
    trained = card.get("training_images") or {}
    items.append("trained on " + ", ".join(f"{n} {name}" for name, n in trained.items())
                 + " images")
    weights = card.get("weights") or {}
    items.append(f"weights: {weights.get('source')}")
    items.append("date: " + str(card.get("date")))
    return (f"<p>Model card{' of ' + esc(model_name) if model_name else ''}:</p><ul>"
            + "".join(f"<li>{esc(item)}</li>" for item in items) + "</ul>")


def write_prediction_page(table, out, *, classes=None, labels=None, seen=None, card=None,
                          model_name=None, figures=None, links=()):
    """Write the predictions' page ``OUT.html`` and its thumbnails in ``OUT-page/``.

    Parameters
    ----------
    table : pandas.DataFrame
        The predictions as written to ``out``: ``path``, (``label``),
        ``predicted``, ``probability_<class>`` columns.
    out : path
        The predictions' CSV.
    classes : list of str, optional
        The model's classes (None for a regressor).
    labels : array-like, optional
        The images' known classes: the page scores the predictions.
    seen : list, optional
        The images the model was trained on
        (:func:`~sklearn_cnntexture.model.file.training_images_among`): the
        page warns that scores on them estimate nothing.
    card : dict, optional
        The model card (:func:`~sklearn_cnntexture.model.file.read_card`).
    model_name : str, optional
        The model file's name.
    figures : list of path, optional
        Each image's heat-map figure (``--explain``).
    links : sequence of (href, text)
        Other pages to link (relative to ``out``'s folder).

    Returns
    -------
    paths : list of pathlib.Path
        The page and the thumbnails' folder.
    """
    out = Path(out)
    page_path, folder = prediction_page_paths(out)
    paths = list(table["path"])
    thumbs = write_thumbnails(paths, folder)
    thumbs = [f"{folder.name}/{name}" for name in thumbs]
    shown = display_names(None, paths)
    # Paths as the reader knows them: relative to the deepest folder all share.
    if len(paths) > 1:
        common = Path(os.path.commonpath([str(Path(p).parent) for p in paths]))
        shown = [Path(p).relative_to(common).as_posix() for p in paths]
    rows = pd.DataFrame({
        "micrograph": [f'<img class="thumb" loading="lazy" src="{esc(t)}" alt="">'
                       for t in thumbs],
        "file": [f'<span class="path">{esc(s)}</span>' for s in shown],
    })
    if labels is not None:
        rows["label"] = np.asarray(labels).astype(str)
    rows["predicted"] = table["predicted"].to_numpy()
    if classes is not None:
        rows["predicted"] = rows["predicted"].astype(str)
        for name in classes:
            rows[f"p({name})"] = table[f"probability_{name}"].to_numpy()
    if labels is not None and classes is not None:
        rows["correct"] = np.where(rows["label"] == rows["predicted"], "yes", "no")
    raw = {"micrograph", "file"}
    if figures is not None:
        rows["heat map"] = [
            f'<a href="{esc(rel)}"><img class="heat" loading="lazy" src="{esc(rel)}" '
            f'alt="heat map"></a>' for rel in
            (Path(os.path.relpath(f, out.parent)).as_posix() for f in figures)]
        raw.add("heat map")
    parts = [_card_html(card, model_name)]
    if seen:
        parts.append(f'<p class="warn" id="seen">{len(seen)} of these {len(paths)} images were '
                     "in the model's training set: scores on them are not an estimate of new "
                     "images.</p>")
    if classes is not None:
        counts = rows["predicted"].value_counts().reindex(classes, fill_value=0)
        frame = pd.DataFrame({"class": classes, "images predicted": counts.to_numpy()})
        parts.append(section("Predicted classes", html_table(frame), section_id="counts"))
    if labels is not None and classes is not None:
        known = list(classes) + sorted(set(rows["label"]) - set(classes))
        confusion = out.with_suffix(".confusion.png")
        parts.append(section(
            "Scores against the labels", scores_html(rows["label"], rows["predicted"], known),
            (f'<p><a href="{esc(confusion.name)}">The confusion matrix as a figure</a>.</p>'
             if confusion.exists() else ""), section_id="scores"))
    parts.append(section(
        "Each micrograph", "<p>Click a header to sort"
        + (", e.g. by a class's probability" if classes is not None else "")
        + (f'; the heat maps show the filters most supporting each prediction '
           f'(<a href="{esc(out.stem)}-explained/">all figures</a>)'
           if figures is not None else "")
        + f'. The same numbers: <a href="{esc(out.name)}">{esc(out.name)}</a>.</p>',
        html_table(rows, sortable=True, raw=raw, table_id="predictions"),
        section_id="images"))
    text = page(f"Predictions: {out.name}", "".join(parts),
                nav=[*links, ("#images", "each micrograph")])
    _atomic.write_text(page_path, text)
    return [page_path, folder]
