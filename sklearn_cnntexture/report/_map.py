"""The microstructure map: the micrographs in 2-D, by the best configuration's features.

One point per micrograph, placed by a 2-D embedding of the features the
study's best configuration feeds its model, coloured by class, group, a
numeric target or any other column of the data, the out-of-fold errors
marked, and the micrograph's thumbnail and file name beside the map when the
mouse is on a point (pinned by a click). DeCost et al. map the UHCS
collection this way; here the map is tied to the study's errors.

The embedding is UMAP by default, chosen by measuring (docs/pages.rst;
mean features of C3,3 with the hed-bsds500 weights, classes' 5-nearest-neighbour
accuracy in 2-D, 5 folds, and the time on 2 cores):

==================  ==============  ==============  =====================
data                PCA             t-SNE           UMAP
==================  ==============  ==============  =====================
UHCS, 600 images    0.510, 0.0 s    0.883, 7 s      0.873, 0.8 s (+10 s)
NEU, 1,800 images   0.743, 0.7 s    0.970, 58 s     0.955, 3.8 s (+10 s)
==================  ==============  ==============  =====================

(all 256 features: 0.850 and 0.959). PCA's two directions of largest variance
mix the classes that the features tell apart; t-SNE and UMAP keep them apart
(as well as the whole feature space does), and UMAP does so 10-15 times
faster than t-SNE, which matters at 10,000 images. "+10 s" is numba's
compilation, once per process. The map's distances between clusters mean
little (UMAP's and t-SNE's both): the page says so. ``method="pca"`` (same
map on every machine, milliseconds) and ``"tsne"`` are there too.

The figure is plotly's: the page loads ``plotly.min.js`` from beside it (no
CDN). Each colouring is a set of traces; a dropdown (plotly's own menu)
shows one set at a time. A dozen lines of script show the thumbnail.
"""

import json
import time

import numpy as np

from ._html import esc

__all__ = ["EMBEDDINGS", "PLOTLY_FILE", "embed", "map_html", "write_plotly_js"]

#: The embeddings :func:`embed` knows.
EMBEDDINGS = ("umap", "pca", "tsne")
#: The plotting library's script, written beside each page with a map.
PLOTLY_FILE = "plotly.min.js"
#: Colours of the classes (and any other column of names): plotly's D3 set.
_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf"]
_MISSING = "#c8c8c8"


def embed(features, *, method="umap", random_state=0):
    """Place each row of ``features`` in 2-D.

    The features are standardized first (each column to mean 0, variance 1):
    a few filters with large activations would otherwise decide the map.

    Parameters
    ----------
    features : array-like of shape (n_images, n_features)
    method : {"umap", "pca", "tsne"}, default="umap"
        UMAP needs umap-learn (a dependency of the package).
    random_state : int, default=0
        Seed of t-SNE and UMAP (PCA has none).

    Returns
    -------
    xy : ndarray of shape (n_images, 2)
    seconds : float
        The time the embedding took.
    """
    from sklearn.preprocessing import StandardScaler

    X = StandardScaler().fit_transform(np.asarray(features, dtype=np.float64))
    start = time.perf_counter()
    if len(X) < 3 or X.shape[1] < 2:
        # Too few images or a single feature: the features themselves, padded.
        xy = np.zeros((len(X), 2))
        xy[:, : min(2, X.shape[1])] = X[:, :2]
    elif method == "pca":
        from sklearn.decomposition import PCA

        xy = PCA(2, random_state=random_state).fit_transform(X)
    elif method == "tsne":
        from sklearn.manifold import TSNE

        xy = TSNE(2, perplexity=min(30.0, (len(X) - 1) / 3), init="pca",
                  random_state=random_state).fit_transform(X)
    elif method == "umap":
        import umap

        # One thread: the seed makes UMAP serial anyway (n_jobs=1 says so, without
        # its warning); 10,000 images take about a minute.
        xy = umap.UMAP(n_neighbors=min(15, len(X) - 1), random_state=random_state,
                       n_jobs=1).fit_transform(X)
    else:
        raise ValueError(f"method must be one of {EMBEDDINGS}, got {method!r}")
    return np.asarray(xy, dtype=np.float64), time.perf_counter() - start


def _is_numeric(values):
    import pandas as pd

    series = pd.Series(values)
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _traces(go, name, values, xy, index, *, numeric, first):
    """The traces of one colouring: one per category, or one coloured scale + missing."""
    import pandas as pd

    values = pd.Series(values).reset_index(drop=True)
    missing = values.isna().to_numpy()
    common = dict(mode="markers", hoverinfo="none", visible=first, meta=name,
                  legendgroup=name)
    traces = []
    if numeric:
        keep = ~missing
        traces.append(go.Scatter(
            x=xy[keep, 0], y=xy[keep, 1], customdata=index[keep],
            marker=dict(size=7, color=values[keep].astype(float).to_numpy(),
                        colorscale="Viridis", showscale=True,
                        # below the legend's "misclassified" entry, not over it
                        colorbar=dict(title=name, len=0.7, y=0.35, yanchor="middle")),
            name=f"{name} ({int(keep.sum())})", showlegend=False, **common))
        categories = [("not recorded", missing)] if missing.any() else []
        colours = [_MISSING]
    else:
        labels = values.astype(str).where(~missing, "not recorded")
        names = sorted(set(labels) - {"not recorded"}) + (
            ["not recorded"] if missing.any() else [])
        categories = [(c, (labels == c).to_numpy()) for c in names]
        colours = [_MISSING if c == "not recorded" else _PALETTE[k % len(_PALETTE)]
                   for k, c in enumerate(names)]
    for (category, mask), colour in zip(categories, colours):
        traces.append(go.Scatter(
            x=xy[mask, 0], y=xy[mask, 1], customdata=index[mask],
            marker=dict(size=7, color=colour, line=dict(width=0)),
            name=f"{category} ({int(mask.sum())})", **common))
    return traces


def map_html(xy, colourings, *, names, thumbs=None, wrong=None, div_id="map-plot", title=""):
    """The map as HTML: a plotly figure (needs :data:`PLOTLY_FILE` loaded) and its side panel.

    Parameters
    ----------
    xy : ndarray of shape (n_images, 2)
    colourings : dict of str -> array-like of shape (n_images,)
        The columns a reader may colour by, the first shown first. Numbers are
        a colour scale, anything else categories; missing values are grey
        points ("not recorded"), never dropped.
    names : sequence of str
        Each micrograph's file (shown with its thumbnail).
    thumbs : sequence of str, optional
        Each micrograph's thumbnail, relative to the page.
    wrong : array-like of bool, optional
        The out-of-fold errors, drawn as black rings over the points.
    div_id : str
    title : str

    Returns
    -------
    html : str
        The figure's ``<div>`` and script, the panel, and the hover script.
    """
    import plotly.graph_objects as go

    n = len(xy)
    index = np.arange(n)
    # 4 significant digits are plenty on a screen and keep the page small.
    xy = np.round(np.asarray(xy, dtype=np.float64), 4)
    traces, groups = [], []
    for k, (name, values) in enumerate(colourings.items()):
        values = list(values)
        if len(values) != n:
            raise ValueError(f"colouring {name!r} has {len(values)} values for {n} points")
        made = _traces(go, name, values, xy, index, numeric=_is_numeric(values), first=k == 0)
        groups.append((name, len(traces), len(made)))
        traces += made
    overlay = []
    if wrong is not None and np.any(wrong):
        wrong = np.asarray(wrong, dtype=bool)
        overlay.append(go.Scatter(
            x=xy[wrong, 0], y=xy[wrong, 1], customdata=index[wrong], mode="markers",
            hoverinfo="none", meta="misclassified", name=f"misclassified ({int(wrong.sum())})",
            marker=dict(size=12, color="rgba(0,0,0,0)", line=dict(width=1.6, color="black"))))
    figure = go.Figure(traces + overlay)
    buttons = []
    for name, start, count in groups:
        visible = [start <= k < start + count for k in range(len(traces))] + [True] * len(
            overlay)
        buttons.append(dict(label=name, method="update", args=[{"visible": visible}]))
    menu = len(buttons) > 1
    figure.update_layout(
        template="simple_white", height=640, margin=dict(l=40, r=20, t=95 if menu else 60, b=40),
        title=dict(text=esc(title), x=0.01, y=0.98, yref="container", font=dict(size=14)),
        legend=dict(itemsizing="constant"), hovermode="closest", dragmode="zoom",
        # The colour menu under the title, named: plotly's own dropdown, no script of ours.
        updatemenus=[dict(buttons=buttons, direction="down", x=0.09, xanchor="left", y=1.1,
                          yanchor="top", showactive=True)] if menu else [],
        annotations=[dict(text="colour by", x=0, xref="paper", y=1.08, yref="paper",
                          showarrow=False, xanchor="left")] if menu else [],
        xaxis=dict(title="map 1", showticklabels=False, ticks=""),
        yaxis=dict(title="map 2", showticklabels=False, ticks=""),
    )
    plot = figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                          config={"displaylogo": False, "responsive": True})
    info = {"names": [str(s) for s in names], "thumbs": None if thumbs is None else list(thumbs),
            "values": {name: [_shown(v) for v in values] for name, values in colourings.items()},
            "wrong": None if wrong is None else [bool(w) for w in wrong]}
    # The panel comes first in the page (shown second): plotly sizes the figure when its
    # script runs, so the panel must already take its place beside it.
    panel = (f'<div style="display:flex;gap:1em"><div id="{div_id}-panel" '
             'style="order:2;flex:0 0 230px;font-size:.85em">'
             "<p>Point at a micrograph (click to keep it).</p></div>"
             f'<div style="order:1;flex:1 1 auto;min-width:0">{plot}</div></div>')
    return panel + _hover_script(div_id, info)


def _shown(value):
    """A value as the panel shows it: 970 not 970.0, None when missing."""
    if _missing(value):
        return None
    if isinstance(value, (float, np.floating)):
        return f"{value:.6g}"
    return str(value)


def _missing(value):
    try:
        return value is None or bool(np.isnan(value))
    except TypeError:
        return False


def _hover_script(div_id, info):
    # The data as JSON in a script (</ escaped so a file name cannot close the tag).
    data = json.dumps(info, separators=(",", ":")).replace("</", "<\\/")
    return f"""<script>(function () {{
var info = {data}, gd = document.getElementById({json.dumps(div_id)});
var panel = document.getElementById({json.dumps(div_id + "-panel")}), pinned = false;
function esc(s) {{ var d = document.createElement("div"); d.textContent = s; return d.innerHTML; }}
function show(i) {{
  var html = info.thumbs ? '<img src="' + info.thumbs[i] + '" style="max-width:220px">' : "";
  html += '<p class="path">' + esc(info.names[i]) + "</p>";
  for (var k in info.values) html += "<div>" + esc(k) + ": <b>" +
      esc(info.values[k][i] === null ? "not recorded" : info.values[k][i]) + "</b></div>";
  if (info.wrong && info.wrong[i]) html += '<div class="warn">misclassified</div>';
  panel.innerHTML = html; panel.dataset.index = i;
}}
gd.on("plotly_hover", function (e) {{ if (!pinned) show(e.points[0].customdata); }});
gd.on("plotly_click", function (e) {{ pinned = true; show(e.points[0].customdata); }});
gd.on("plotly_doubleclick", function () {{ pinned = false; }});
}})();</script>"""


def write_plotly_js(directory):
    """Write plotly's script beside a page (about 4.8 MB, the same for every page)."""
    from plotly.offline import get_plotlyjs

    from .. import _atomic

    return _atomic.write_text(directory / PLOTLY_FILE, get_plotlyjs())
