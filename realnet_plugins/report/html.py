"""One self-contained HTML page: every figure embedded as base64 PNG, its caption, statistics and CSV names.

When the report is built on data that are not the real data (the demo's synthetic fixtures), the
header says so; scores whose benchmark set flags (``attrs['flags']``) are listed with their flags.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
from typing import TYPE_CHECKING, Mapping, Sequence

import pandas as pd

from realnet_plugins import __version__

if TYPE_CHECKING:
    from realnet_plugins.report.build import FigureOutput, ReportResult

#: Tables shown on the page (small statistics); the rest are only linked as CSV.
_SHOWN_TABLES = ("stats", "test", "correlation", "top")
_MAX_SHOWN_ROWS = 60

_CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}\
h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.92em;color:#444}
table{border-collapse:collapse;font-size:.82em;margin:.6em 0}\
td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}.skipped li{margin:.3em 0}\
.note{color:#555;font-size:.9em}
.csv{font-family:monospace;font-size:.85em;color:#555}
.data-label{background:#fff3cd;border:1px solid #e0c96a;padding:.4em .7em;display:inline-block}
"""


def _table_html(table: pd.DataFrame) -> str:
    shown = table.head(_MAX_SHOWN_ROWS)
    more = f"<p class='note'>first {_MAX_SHOWN_ROWS} of {len(table)} rows</p>" if len(table) > _MAX_SHOWN_ROWS else ""
    return shown.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="—", border=0) + more


def render_report(result: "ReportResult", written: Sequence[tuple["FigureOutput", Mapping[str, pd.DataFrame]]],
                  provenance: Sequence[tuple[str, str]], *,
                  score_flags: Sequence[tuple[str, str, Sequence[str]]] = (), data_label: str | None = None) -> str:
    """The HTML page of a report.

    Args:
        result: the report's outcome (skipped figures, notes, counts).
        written: each written figure with its tables (by table name).
        provenance: (field, value) lines: the models, the stores, the images.
        score_flags: (model, benchmark, flags) of every score its benchmark flagged.
        data_label: what the data are when they are not the real data (shown in the header), or None.

    Returns:
        The HTML text (UTF-8), with no external references.
    """
    escape = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>ReAlnet report{escape(' — ' + data_label) if data_label else ''}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>ReAlnet: the paper's analyses{escape(' — ' + data_label) if data_label else ''}</h1>",
        *([f"<p class='data-label'>Made from <b>{escape(data_label)}</b>: the figures show the pipeline at work, "
           "not results about the human brain.</p>"] if data_label else []),
        f"<p class='note'>realnet-plugins {escape(__version__)}, "
        f"{_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')}. {len(result.figures)} figures, "
        f"{len(result.skipped)} skipped. Scores: {result.scores_computed} computed, {result.scores_cached} from the "
        f"store; layer RDMs: {result.rdms_computed} computed, {result.rdms_cached} cached; {result.seconds:.1f} s.</p>",
        "<table>", *[f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in provenance], "</table>",
        "<h2>Contents</h2><ul>",
        *[f"<li><a href='#{escape(f.name)}'>{escape(f.title)}</a></li>" for f, _ in written],
        "</ul>",
    ]
    if result.skipped:
        parts.append("<h2 id='skipped'>Skipped figures</h2><ul class='skipped'>")
        parts += [f"<li><b>{escape(s.title)}</b>: {escape(s.reason)}</li>" for s in result.skipped]
        parts.append("</ul>")
    if result.notes:
        parts.append("<h2>Notes</h2><ul class='note'>")
        parts += [f"<li>{escape(n)}</li>" for n in result.notes]
        parts.append("</ul>")
    if score_flags:
        parts.append("<h2 id='score-flags'>Score flags</h2><p class='note'>Flags the benchmarks set on these scores "
                     "(also in the flags column of the score table):</p><ul class='note'>")
        parts += [f"<li><b>{escape(model)}</b> on {escape(benchmark)}: {escape('; '.join(flags))}</li>"
                  for model, benchmark, flags in score_flags]
        parts.append("</ul>")
    for figure, tables in written:
        encoded = base64.b64encode(figure.png.read_bytes()).decode("ascii")
        parts += [
            f"<h2 id='{escape(figure.name)}'>{escape(figure.title)}</h2><figure>",
            f"<img alt='{escape(figure.title)}' src='data:image/png;base64,{encoded}'>",
            f"<figcaption>{escape(figure.caption)}</figcaption></figure>",
        ]
        for name in _SHOWN_TABLES:
            table = tables.get(name)
            if table is not None and not table.empty:
                parts += [f"<p><b>{escape(name)}</b></p>", _table_html(table)]
        if figure.tables:
            parts.append("<p class='csv'>numbers: " + ", ".join(escape(p.name) for p in figure.tables) + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
