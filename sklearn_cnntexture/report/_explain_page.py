"""The explanations' page: ``index.html`` in the explain folder.

The important and characteristic textures as images beside their numbers
(importance, Cohen's d, each class's mean activation), each class's heat map
on an example micrograph (with its file name and colour bar), the paper's
figures, and how the model was made. Filters are named one way everywhere:
``C3,3 #174`` (:func:`~sklearn_cnntexture.plotting.filter_label`), in the
figures, the CSVs' ``texture`` column and the page.
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _atomic
from ..features.provenance import provenance, provenance_lines
from ._html import esc, figure, html_table, link, page, section

__all__ = ["texture_file", "write_explanation_page"]

#: Where the page keeps each filter's texture and each class's heat map.
TEXTURE_FOLDER, HEATMAP_FOLDER = "textures", "heatmaps"


def texture_file(layer, index):
    """A filter's texture image, relative to the page: ``textures/block3_conv3-174.png``."""
    return f"{TEXTURE_FOLDER}/{layer}-{int(index)}.png"


def _save_texture(texture, path):
    from PIL import Image

    pixels = (np.clip(np.asarray(texture, dtype=float), 0, 1) * 255).round().astype(np.uint8)
    Image.fromarray(pixels).save(path)


def _image_name(item, index):
    return Path(item).name if isinstance(item, (str, os.PathLike)) else f"image {index}"


def write_explanation_page(explanation, directory, *, study=None, links=()):
    """Write ``index.html``, ``textures/`` and ``heatmaps/`` into the explain folder.

    Call after the explanations' figures are written (the page shows them).

    Parameters
    ----------
    explanation : Bunch
        From :func:`~sklearn_cnntexture.explain.explain_model`.
    directory : path
    study : path, optional
        The study folder the explained model came from: the page links its page.
    links : sequence of (href, text)

    Returns
    -------
    paths : list of pathlib.Path
    """
    from .. import plotting

    e, directory = explanation, Path(directory)
    classes = [str(c) for c in np.unique(e.y)]
    (directory / TEXTURE_FOLDER).mkdir(exist_ok=True)
    (directory / HEATMAP_FOLDER).mkdir(exist_ok=True)
    for (layer, index), texture in e.textures.items():
        _save_texture(texture, directory / texture_file(layer, index))

    def texture_cell(layer, index):
        return (f'<img class="thumb" src="{esc(texture_file(layer, index))}" '
                f'alt="{esc(plotting.filter_label(layer, index))}">')

    means = [f"mean_{c}" for c in classes]
    top = e.important.head(e.top_k).reset_index(drop=True)
    important = pd.DataFrame({
        "rank": np.arange(1, len(top) + 1),
        "texture": [texture_cell(r.layer, r.filter) for r in top.itertuples()],
        "filter": [plotting.filter_label(r.layer, r.filter) for r in top.itertuples()],
        "importance": top["importance"].to_numpy(),
        **{f"mean, {c}": top[m].to_numpy() for c, m in zip(classes, means)},
    })
    # Each class's heat map on its first micrograph, as explain_model drew it.
    heat_cells, examples = {}, {}
    for cls, (image, heat, layer, index) in e.heatmaps.items():
        first = next(i for i, label in enumerate(e.y) if str(label) == str(cls))
        name = _image_name(e.X[first], first)
        fig = plotting.plot_heatmap(image, heat, name=name,
                                    title=f"{cls}: {plotting.filter_label(layer, index)}")
        path = f"{HEATMAP_FOLDER}/{classes.index(str(cls)):02d}.png"
        fig.savefig(directory / path, dpi=72)
        heat_cells[str(cls)] = (f'<a href="{esc(path)}"><img class="heat" src="{esc(path)}" '
                                f'alt="heat map of {esc(cls)}"></a>')
        examples[str(cls)] = name
    rows = e.characteristic.to_dict("records")
    characteristic = pd.DataFrame({
        "class": [str(r["class"]) for r in rows],
        "texture": [texture_cell(r["layer"], r["filter"]) for r in rows],
        "filter": [plotting.filter_label(r["layer"], r["filter"]) for r in rows],
        "Cohen's d": [r["statistic"] for r in rows],
        **{f"mean, {c}": [r[m] for r in rows] for c, m in zip(classes, means)},
        "heat map on a micrograph of the class": [heat_cells.get(str(r["class"]), "")
                                                  for r in rows],
        "micrograph": [f'<span class="path">{esc(examples.get(str(r["class"]), ""))}</span>'
                       for r in rows],
    })
    steps = " -> ".join(type(step).__name__ for _, step in e.model.steps)
    head = (f"<p>Model: {esc(steps)}, fitted on {len(e.y)} micrographs of {len(classes)} "
            f"classes ({', '.join(esc(c) for c in classes)}). Filters are named by the "
            "paper's layer and their index in it: C3,3 #174 is filter 174 of block3_conv3; "
            "the tables' texture column names them so too.</p>")
    nav = list(links)
    if study is not None:
        study_page = Path(study) / "index.html"
        head += ("<p>The model is the study's best explainable configuration: "
                 + link(Path(os.path.relpath(study_page, directory)).as_posix(), "the study")
                 + ".</p>")
        nav.insert(0, (Path(os.path.relpath(study_page, directory)).as_posix(), "study"))
    figures = [figure(f"{stem}.png", caption) for stem, caption in [
        ("textures", "each layer's most important filters' textures (the paper's Fig. 8)"),
        ("important_textures", "the top textures with each class's mean activation (Fig. 9)"),
        ("heatmaps", "for each class a micrograph beside its characteristic filter's heat "
                     "map (Fig. 10)"),
        ("characteristic_textures", "each class's characteristic texture under example "
                                    "micrographs (Figs. 11-12)")]
        if (directory / f"{stem}.png").is_file()]
    parts = [
        head,
        section(f"Top {len(top)} important textures",
                "<p>Random-forest importance of each filter's feature; the texture is the "
                "image that most excites the filter; the class columns are the feature's mean "
                'in each class (<a href="important_textures.csv">important_textures.csv</a>)'
                ".</p>",
                html_table(important, sortable=True, raw={"texture"}, table_id="important"),
                section_id="important"),
        section("Characteristic texture of each class",
                "<p>The filter whose feature most separates the class from the rest (Cohen's "
                "d), its texture, and its activation over the class's first micrograph "
                '(<a href="characteristic_textures.csv">characteristic_textures.csv</a>).</p>',
                html_table(characteristic, raw={"texture", "micrograph",
                                                "heat map on a micrograph of the class"},
                           table_id="characteristic"),
                section_id="characteristic"),
        section("Figures", *figures, section_id="figures"),
        section("How the model was made", "<ul>" + "".join(
            f"<li>{esc(line[2:])}</li>" for line in
            provenance_lines(provenance(e.model.named_steps["vgg"]))) + "</ul>",
            section_id="provenance"),
    ]
    text = page("What the model sees", "".join(parts),
                nav=[*nav, ("#important", "important textures"),
                     ("#characteristic", "characteristic textures")])
    return [_atomic.write_text(directory / "index.html", text),
            directory / TEXTURE_FOLDER, directory / HEATMAP_FOLDER]
