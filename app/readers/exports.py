"""The insights as authors take them away: CSV files a spreadsheet reads as text, and the
numbers of the SVG bar charts (the template draws them; no markup is made here)."""

from __future__ import annotations

import csv
import io
import re

from flask import Response

# A cell a spreadsheet would read as a formula: one of these first, also after a separator
# (a Norwegian Excel splits at `;`, others at `,`; a reader that ignores quotes, at a line
# break or a tab) and the spaces after it.
FORMULA = re.compile(r"(^|[;,\t\r\n]\s*)(?=[=+\-@\t\r])")


def bar_chart(per_day: list[dict], series: dict[str, str], width: int = 640, height: int = 160) -> dict:
    """Bars per day, each stacked from its `series` (key: label, bottom first), as numbers for
    the SVG template (templates/_chart.html): no markup here."""
    top = max((sum(day[key] for key in series) for day in per_day), default=0) or 1
    step = width / max(len(per_day), 1)
    bars = []
    for i, day in enumerate(per_day):
        bottom, parts = height, []
        for key, label in series.items():
            tall = day[key] / top * height
            bottom -= tall
            parts.append({"key": key, "label": label, "value": day[key], "y": round(bottom, 2), "h": round(tall, 2)})
        bars.append(
            {"x": round(i * step + step * 0.1, 2), "w": round(step * 0.8, 2), "day": day["day"], "parts": parts}
        )
    return {"width": width, "height": height, "top": top, "bars": bars, "series": series}


VOTES = {"yes": "ja", "no": "nei"}


VIEWS = {"views": "visninger"}


SEARCHES = {"found": "med treff", "no_results": "uten treff"}


def csv_download(name: str, days: int, header: list[str], table: list[list]) -> Response:
    """A CSV file for a spreadsheet: every cell quoted and defused (see cells), with a byte
    order mark so that Excel reads UTF-8 (`søk`, not `sÃ¸k`)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows(cells(row) for row in table)
    return Response(
        out.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-{days}d.csv"'},
    )


def cells(row: list) -> list[str]:
    """A CSV row a spreadsheet reads as text, whichever separator it splits at: a `'` before
    anything that would start a formula, at the start of a cell or after a `;` or `,` in it."""
    return [FORMULA.sub(r"\1'", cell) if isinstance(cell, str) else cell for cell in row]
