"""The folder of a property explanation: tables, figures, page and summary.

What :func:`~sklearn_cnntexture.explain.explain_property` found, written for a
person: the textures that rise and fall with a numeric property (their images,
rank correlations and stability over folds), their heat maps on the
micrographs of the low and the high end of the target, each quantile's
characteristic textures, and the numbers behind every figure as CSV. Filters
are named one way everywhere: ``C3,3 #174``
(:func:`~sklearn_cnntexture.plotting.filter_label`).
"""

import os
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import validate_params

from .. import _atomic
from ..features._layers import paper_name
from ..features.provenance import provenance, provenance_lines
from ._explain_page import HEATMAP_FOLDER, TEXTURE_FOLDER, texture_file
from ._folders import prepare_output_folder
from ._html import esc, figure, html_table, link, page, section

__all__ = ["write_property_explanation"]

#: Rows of the full correlation table shown on the page (all are in the CSV).
_PAGE_ROWS = 30


@validate_params(
    {
        "explanation": [dict],
        "directory": [str, os.PathLike],
        "study": [str, os.PathLike, None],
        "links": [list, tuple],
    },
    prefer_skip_nested_validation=True,
)
def write_property_explanation(explanation, directory, *, study=None, links=()):
    """Write a property explanation's tables, figures, page and summary to a folder.

    Files: ``property_correlations.csv`` (every filter: r over all images,
    over the folds' training parts, stability; the page's ranking),
    ``property_textures.csv`` (the rising and falling filters of the figure
    with their feature on the low and high micrographs, whose file names and
    values it repeats), ``quantile_textures.csv`` (each quantile's
    characteristic textures), ``property_textures.png/.svg`` (the rising and
    falling textures beside their heat maps on a micrograph of the low and
    one of the high end), ``quantile_textures.png/.svg`` (each quantile's example
    micrographs over its characteristic textures, as the paper's Figs. 11-12
    per class), ``index.html`` with ``textures/`` and ``heatmaps/``, and,
    last, ``summary.md``.

    Parameters
    ----------
    explanation : Bunch
        From :func:`~sklearn_cnntexture.explain.explain_property`.
    directory : str or path
    study : str or path, optional
        The study folder whose network this used: the page links its page.
    links : sequence of (href, text)
        Other pages to link (relative to ``directory``).

    Returns
    -------
    paths : list of pathlib.Path
    """
    from .. import plotting

    e, directory = explanation, prepare_output_folder(directory)
    shown = _shown(e)
    paths = [
        _atomic.write_text(directory / "property_correlations.csv",
                           e.correlations.to_csv(index=False)),
        _atomic.write_text(directory / "property_textures.csv", shown.to_csv(index=False)),
        _atomic.write_text(directory / "quantile_textures.csv",
                           e.by_quantile.to_csv(index=False)),
    ]
    examples = {end: (ex.name, ex.y, ex.image) for end, ex in e.examples.items()}
    textures, captions = {}, {}
    for direction, rows in (("rises", e.rising), ("falls", e.falling)):
        textures[direction] = [
            (row.texture, f"r = {row.r:+.2f}, stability {row.stability:.2f}",
             e.textures[(row.layer, int(row.filter))]) for row in rows.itertuples()]
        for row in rows.itertuples():
            captions[row.texture] = {
                "low": f"mean {row.activation_low:.3g} (lowest quantile's "
                       f"{row.mean_lowest_quantile:.3g})",
                "high": f"mean {row.activation_high:.3g} (highest quantile's "
                        f"{row.mean_highest_quantile:.3g})"}
    heatmaps = {plotting.filter_label(*key): maps for key, maps in e.heatmaps.items()}
    if textures["rises"] or textures["falls"]:
        fig = plotting.plot_property_textures(
            textures, heatmaps, examples, target_name=e.target_name, captions=captions,
            title=f"Textures that rise and fall with {e.target_name}")
        paths += plotting.save_figure(fig, directory / "property_textures.png")
    if len(e.by_quantile):
        paths += plotting.save_figure(_quantile_figure(e), directory / "quantile_textures.png")
    paths += _write_page(e, directory, shown, examples, captions, study, links)
    paths.append(_atomic.write_text(directory / "summary.md", _property_summary(e)))
    return [Path(p) for p in paths]


def _shown(e):
    """The figure's rows and numbers: rising then falling, with the two micrographs."""
    import pandas as pd

    low, high = e.examples["low"], e.examples["high"]
    table = pd.concat([e.rising, e.falling], ignore_index=True)
    table.insert(0, "shown_as", ["rises"] * len(e.rising) + ["falls"] * len(e.falling))
    table["low_micrograph"], table[f"low_{e.target_name}"] = low.name, low.y
    table["high_micrograph"], table[f"high_{e.target_name}"] = high.name, high.y
    return table


def _bin_name(row, target_name=None):
    """``Q1: 700-800`` (with the target's name: ``Q1: T 700-800``)."""
    low, high = row["y_low"], row["y_high"]
    span = f"{low:.4g}" if low == high else f"{low:.4g}-{high:.4g}"
    return f"Q{int(row['quantile'])}: " + (f"{target_name} " if target_name else "") + span


def _bins_note(e):
    """A line when the target's ties left fewer quantile bins than asked, else none."""
    n_bins = int(e.bins.max()) + 1
    if n_bins == e.n_quantiles:
        return []
    return [f"{e.n_quantiles} quantile bins were asked; {e.target_name}'s equal values allow "
            f"{n_bins} (equal values always share a bin)."]


def _quantile_figure(e):
    """Each bin's first two micrographs over its characteristic textures (Figs. 11-12)."""
    from .. import io, plotting

    textures, values, examples, names = {}, {}, {}, []
    for row in e.by_quantile.to_dict("records"):
        name = _bin_name(row)
        if name not in textures:
            names.append(name)
            members = np.flatnonzero(e.bins == int(row["quantile"]) - 1)[:2]
            examples[name] = [
                (_image_name(e.X[i], i) + f"\n{e.target_name} {e.y[i]:g}",
                 io.read_image(e.X[i]) if io.is_image_path(e.X[i]) else np.asarray(e.X[i]))
                for i in members]
        key = (row["layer"], int(row["filter"]))
        textures.setdefault(name, []).append((row["texture"], e.textures[key]))
        values.setdefault(name, []).append(f"d = {row['d']:.2f}")
    return plotting.plot_characteristic_textures(
        textures, examples, values, class_names=names,
        title=f"Characteristic textures of each quantile of {e.target_name}")


def _image_name(item, index):
    return Path(item).name if isinstance(item, (str, os.PathLike)) else f"image {index}"


def _save_png(texture, path):
    from PIL import Image

    pixels = (np.clip(np.asarray(texture, dtype=float), 0, 1) * 255).round().astype(np.uint8)
    Image.fromarray(pixels).save(path)


def _write_page(e, directory, shown, examples, captions, study, links):
    """``index.html``, its textures and each shown filter's heat-map pair."""
    from .. import plotting

    (directory / TEXTURE_FOLDER).mkdir(exist_ok=True)
    (directory / HEATMAP_FOLDER).mkdir(exist_ok=True)
    for (layer, index), texture in e.textures.items():
        _save_png(texture, directory / texture_file(layer, index))

    def texture_cell(layer, index):
        return (f'<img class="thumb" src="{esc(texture_file(layer, index))}" '
                f'alt="{esc(plotting.filter_label(layer, index))}">')

    heat_cells = {}
    for (layer, index), maps in e.heatmaps.items():
        label = plotting.filter_label(layer, index)
        fig = plotting.plot_property_heatmap(maps, examples, label=label,
                                             target_name=e.target_name,
                                             captions=captions.get(label))
        path = f"{HEATMAP_FOLDER}/{layer}-{int(index)}.png"
        fig.savefig(directory / path, dpi=100, bbox_inches="tight")
        heat_cells[label] = (f'<a href="{esc(path)}"><img src="{esc(path)}" style="width:460px" '
                             f'alt="heat maps of {esc(label)}"></a>')

    def direction_table(direction, table_id):
        rows = shown[shown["shown_as"] == direction]
        frame = _page_frame(rows, texture_cell)
        frame["mean, lowest quantile"] = rows["mean_lowest_quantile"].to_numpy()
        frame["mean, highest quantile"] = rows["mean_highest_quantile"].to_numpy()
        frame["heat maps (low, high)"] = [heat_cells.get(t, "") for t in rows["texture"]]
        if not len(frame):
            return f"<p>No filter {direction[:-1]}s with {esc(e.target_name)}.</p>"
        return html_table(frame, raw={"texture", "heat maps (low, high)"},
                          table_id=table_id)

    low, high = e.examples["low"], e.examples["high"]
    head = (f"<p>Target: <b>{esc(e.target_name)}</b>, from {e.y.min():g} to {e.y.max():g} over "
            f"{len(e.y)} micrographs. Each filter's feature is its mean activation (layers "
            f"{esc(', '.join(paper_name(layer) for layer in e.layers))}); r is Spearman's rank "
            f"correlation of the feature with {esc(e.target_name)} over all images. Folds: "
            f"{esc(e.cv)}; stability is the fraction of folds in which the filter is among the "
            f"{e.top_k} of its direction with the largest |r| on the fold's training part: a "
            "ranking that holds on other subsets of the images is one to believe. Heat maps "
            f'are on <span class="path">{esc(low.name)}</span> ({esc(e.target_name)} '
            f"{low.y:g}, {esc(low.chosen)}) and <span class=\"path\">{esc(high.name)}</span> "
            f"({high.y:g}, {esc(high.chosen)}), one colour scale per filter, titled with the "
            "filter's feature (its mean activation) on the micrograph and over its quantile."
            "</p>")
    head += "".join(f'<p class="note">{esc(line)}</p>' for line in _bins_note(e))
    if e.n_constant:
        head += (f'<p class="note">{e.n_constant} filters are constant over these images '
                 "(silent): r = 0, direction flat.</p>")
    nav = list(links)
    if study is not None:
        study_page = Path(os.path.relpath(Path(study) / "index.html", directory)).as_posix()
        head += f"<p>The network is the study's: {link(study_page, 'the study')}.</p>"
        nav.insert(0, (study_page, "study"))
    quantiles = e.by_quantile
    quantile_frame = _page_frame(quantiles, texture_cell, rank=False)
    quantile_frame.insert(0, "quantile", [_bin_name(r, e.target_name)
                                          for r in quantiles.to_dict("records")])
    quantile_frame.insert(1, "images", quantiles["n_images"].to_numpy())
    quantile_frame.insert(2, "rank", quantiles["rank"].to_numpy())
    quantile_frame["Cohen's d"] = quantiles["d"].to_numpy()
    quantile_frame["mean in the quantile"] = quantiles["mean_in"].to_numpy()
    quantile_frame["mean elsewhere"] = quantiles["mean_out"].to_numpy()
    top = e.correlations.head(_PAGE_ROWS)
    everything = top[["rank", "texture", "r", "direction", "r_fold_mean", "r_fold_std",
                      "stability", "mean", "std"]].rename(columns={"texture": "filter"})
    figures = [figure(f"{stem}.png", caption) for stem, caption in [
        ("property_textures", "the rising and falling textures and their heat maps on a "
                              f"micrograph of the low and one of the high end of {e.target_name}"),
        ("quantile_textures", f"each quantile of {e.target_name}: example micrographs over its "
                              "characteristic textures")]
        if (directory / f"{stem}.png").is_file()]
    parts = [
        head,
        section(f"Textures that rise with {e.target_name}",
                direction_table("rises", "rising"), section_id="rising"),
        section(f"Textures that fall with {e.target_name}",
                direction_table("falls", "falling"), section_id="falling"),
        section(f"Characteristic textures of each quantile of {e.target_name}",
                "<p>The filters most more active in the quantile than elsewhere (Cohen's d; "
                "a filter counts for the quantile where its mean is highest), as the paper's "
                "Figs. 11-12 per class: a texture of middle values shows here and not among "
                'the correlations (<a href="quantile_textures.csv">quantile_textures.csv'
                "</a>).</p>",
                html_table(quantile_frame, raw={"texture"}, table_id="quantiles"),
                section_id="quantiles"),
        section(f"The {len(top)} first filters of the ranking",
                f"<p>Sorted by stability, then |r|; all {len(e.correlations)} filters are in "
                '<a href="property_correlations.csv">property_correlations.csv</a>.</p>',
                html_table(everything, sortable=True, table_id="correlations"),
                section_id="correlations"),
        section("Figures", *figures, section_id="figures"),
        section("How the features were made", "<ul>" + "".join(
            f"<li>{esc(line[2:])}</li>" for line in provenance_lines(provenance(e.vgg)))
            + "</ul>", section_id="provenance"),
    ]
    text = page(f"Textures and {e.target_name}", "".join(parts),
                nav=[*nav, ("#rising", "rising"), ("#falling", "falling"),
                     ("#quantiles", "quantiles"), ("#correlations", "all filters")])
    return [_atomic.write_text(directory / "index.html", text),
            directory / TEXTURE_FOLDER, directory / HEATMAP_FOLDER]


def _page_frame(rows, texture_cell, *, rank=True):
    import pandas as pd

    frame = pd.DataFrame({
        "texture": [texture_cell(r.layer, r.filter) for r in rows.itertuples()],
        "filter": list(rows["texture"]),
    })
    if rank and "r" in rows:
        frame.insert(0, "rank", rows["rank"].to_numpy())
        frame["r"] = rows["r"].to_numpy()
        frame["stability"] = rows["stability"].to_numpy()
        # No-break spaces: the column stays one line wide.
        frame["r over folds"] = [f"{m:+.2f}\u00a0±\u00a0{s:.2f}" for m, s in
                                 zip(rows["r_fold_mean"], rows["r_fold_std"])]
    return frame


def _property_summary(explanation):
    """A short markdown report: the rising and falling textures, each quantile's."""
    e = explanation
    low, high = e.examples["low"], e.examples["high"]
    lines = [
        f"# Textures and {e.target_name}",
        "",
        f"{len(e.y)} micrographs, {e.target_name} from {e.y.min():g} to {e.y.max():g}; "
        f"features: each filter's mean activation in "
        f"{', '.join(paper_name(layer) for layer in e.layers)} "
        f"({len(e.correlations)} filters, {e.n_constant} constant over the images).",
        f"r: Spearman's rank correlation over all images. Stability: the fraction of the "
        f"folds ({e.cv}) in which the filter is among the {e.top_k} of its direction with "
        "the largest |r| on the fold's training part.",
        *_bins_note(e),
        f"Heat maps on {low.name} ({e.target_name} {low.y:g}, {low.chosen}) and {high.name} "
        f"({high.y:g}, {high.chosen}).",
        "",
        *provenance_lines(provenance(e.vgg)),
        "",
    ]
    for title, rows in ((f"Textures that rise with {e.target_name}", e.rising),
                        (f"Textures that fall with {e.target_name}", e.falling)):
        lines += [f"## {title}", "",
                  "| rank | texture | r | r over folds | stability | mean, lowest quantile | "
                  "mean, highest quantile |",
                  "|---:|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {r.rank} | {r.texture} | {r.r:+.3f} | {r.r_fold_mean:+.2f} ± "
                  f"{r.r_fold_std:.2f} | {r.stability:.2f} | {r.mean_lowest_quantile:.3g} | "
                  f"{r.mean_highest_quantile:.3g} |" for r in rows.itertuples()] or ["| none |"]
        lines.append("")
    lines += [f"## Characteristic textures of each quantile of {e.target_name} "
              "(Cohen's d, quantile vs the rest)", "",
              "| quantile | images | rank | texture | d | mean in | mean elsewhere |",
              "|---|---:|---:|---|---:|---:|---:|"]
    lines += [f"| {_bin_name(r, e.target_name)} | {r['n_images']} | {r['rank']} | "
              f"{r['texture']} | {r['d']:.2f} | {r['mean_in']:.3g} | {r['mean_out']:.3g} |"
              for r in e.by_quantile.to_dict("records")]
    return "\n".join(lines) + "\n"
