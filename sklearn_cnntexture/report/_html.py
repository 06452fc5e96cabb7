"""The pieces of a page: escaping, tables, figures, a sortable table's script, the page itself.

Pages open from disk with no server and no internet: the style and the one
small script (sorting a table by a click on its header) are inline, images
and the plotting library's script are files beside the page, referenced by
relative paths. Nothing here names a host: no CDN, no web font.
"""

import html
import math
from numbers import Real

__all__ = ["esc", "figure", "html_table", "link", "page", "section"]

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0 auto;
max-width:1200px;padding:0 1.2em 3em;color:#1b1b1b;line-height:1.45}
h1{font-size:1.6em;margin:.8em 0 .2em}h2{font-size:1.25em;margin:1.6em 0 .4em;
border-bottom:1px solid #ddd}h3{font-size:1.05em}
nav{font-size:.9em;color:#555;margin:.4em 0}nav a{margin-right:1em}
table{border-collapse:collapse;font-size:.88em;margin:.4em 0}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f4f4f4}table.sortable th{cursor:pointer;user-select:none}
table.sortable th:after{content:" \\2195";color:#aaa;font-size:.8em}
tr.best td{background:#fff6d5}
figure{margin:.8em 0}figure img{max-width:min(100%,820px);border:1px solid #eee}
figcaption{font-size:.85em;color:#555}
img.thumb{width:72px;height:auto;display:block}img.heat{width:240px;height:auto;display:block}
.note{background:#f4f8ff;border-left:4px solid #7aa7e0;padding:.4em .8em;margin:.6em 0}
.warn{background:#fff3f0;border-left:4px solid #e0745a;padding:.4em .8em;margin:.6em 0}
code{font-size:.9em}.path{font-family:monospace;font-size:.85em;word-break:break-all}
.grid{display:flex;flex-wrap:wrap;gap:1em}
"""

# Sorting by a click on a header: numbers as numbers (a cell's data-value when it
# has one), text as text; a second click reverses. No library for twenty lines.
_SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, column) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var up = th.dataset.order !== "up"; th.dataset.order = up ? "up" : "down";
      function key(row) {
        var cell = row.cells[column], v = cell.dataset.value;
        if (v === undefined) v = cell.textContent.trim();
        var x = parseFloat(v); return isNaN(x) || !/^[-+.\\d]/.test(v) ? v : x;
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b), c;
        if (typeof x === "number" && typeof y === "number") c = x - y;
        else c = String(x).localeCompare(String(y));
        return up ? c : -c;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def esc(value):
    """``value`` as HTML text: every ``<``, ``&`` and quote escaped."""
    return html.escape(str(value), quote=True)


def _cell(value, digits):
    if isinstance(value, bool) or not isinstance(value, Real):
        return "<td>" + ("" if value is None else esc(value)) + "</td>"
    if isinstance(value, float) and math.isnan(value):
        return '<td class="num" data-value="">–</td>'
    text = f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    return f'<td class="num" data-value="{value!r}">{text}</td>'


def html_table(frame, *, sortable=False, digits=3, raw=(), row_class=None, table_id=None):
    """A DataFrame as an HTML table, numbers right-aligned with ``digits`` decimals.

    Parameters
    ----------
    frame : pandas.DataFrame
    sortable : bool, default=False
        Sort by a click on a header (the page's inline script).
    digits : int, default=3
    raw : collection of str
        Columns whose values are HTML already (a thumbnail, a link).
    row_class : callable, optional
        Row (a Series) -> a CSS class for its ``<tr>``, or None.
    table_id : str, optional

    Returns
    -------
    str
    """
    attrs = (' class="sortable"' if sortable else "") + (f' id="{esc(table_id)}"'
                                                         if table_id else "")
    heads = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        cells = "".join(f"<td>{row[c]}</td>" if c in raw else _cell(row[c], digits)
                        for c in frame.columns)
        css = row_class(row) if row_class else None
        rows.append(f'<tr class="{esc(css)}">{cells}</tr>' if css else f"<tr>{cells}</tr>")
    return (f"<table{attrs}><thead><tr>{heads}</tr></thead><tbody>" + "".join(rows)
            + "</tbody></table>")


def figure(src, caption, *, alt=None):
    """An image file beside the page (``src`` relative), with its caption."""
    return (f'<figure><a href="{esc(src)}"><img src="{esc(src)}" alt="{esc(alt or caption)}">'
            f"</a><figcaption>{esc(caption)}</figcaption></figure>")


def link(href, text):
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def section(title, *parts, section_id=None):
    """An ``<h2>`` and its content (parts are HTML)."""
    anchor = f' id="{esc(section_id)}"' if section_id else ""
    return f"<section{anchor}><h2>{esc(title)}</h2>" + "".join(parts) + "</section>"


def page(title, body, *, nav=(), scripts=(), inline_script=""):
    """A whole page: inline style, ``nav`` links, ``body`` (HTML), then the scripts.

    Parameters
    ----------
    title : str
    body : str
        HTML.
    nav : sequence of (href, text)
        Links to the pages of the same study (relative paths).
    scripts : sequence of str
        Script files beside the page (relative paths), loaded in the head.
    inline_script : str
        JavaScript run at the end of the body, after the sorting script.
    """
    links = "".join(link(href, text) for href, text in nav)
    heads = "".join(f'<script src="{esc(src)}" charset="utf-8"></script>' for src in scripts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_STYLE}</style>{heads}</head><body>"
        + (f"<nav>{links}</nav>" if links else "")
        + f"<h1>{esc(title)}</h1>{body}<script>{_SORT_SCRIPT}{inline_script}</script>"
        "</body></html>\n"
    )
