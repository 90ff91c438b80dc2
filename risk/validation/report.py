"""The validation report of a finished run: one HTML document, shown as a page and printed to PDF.

The PDF (WeasyPrint, no browser) is stored as validation-report evidence with its SHA-256, so the
validator's signature pins exactly the report they read.
"""

from django.core.cache import cache
from django.template.loader import render_to_string

from risk.validation import chart_facts
from risk.validation.models import Finding


def drawn_once(run, kind: str, draw):
    """Charts of a run, drawn by `draw()`. A finished run's chart data never changes, so pages draw them once
    per web process and reuse them (drawing takes most of a page's time); a run being written is drawn afresh."""
    if run.status != run.Status.SUCCEEDED:
        return draw()
    # Keyed by the run and when it finished: an id reused after a restore never serves another run's charts.
    finished = run.finished_at.timestamp() if run.finished_at else 0
    return cache.get_or_set(f"vigil:run-charts:{kind}:{run.pk}:{finished}", draw, None)


def _svg_charts(run, charts) -> list:
    from risk.validation import svg_charts  # matplotlib: only a process rendering a report loads it

    # "svg-panels": the key before cached drawings without captions, tables or unique ids.
    return drawn_once(run, "svg-panels", lambda: svg_charts.svg_charts(charts)) if charts else []


PRINTED_ROWS = 40


def _printable(panel: dict) -> dict:
    """A long table (an equity curve or ROC curve of up to 1,000 points) is printed as 40 evenly spaced rows, first and
    last kept; the run page's table gives every row."""
    cells = panel["table"]["cells"]
    if len(cells) <= PRINTED_ROWS:
        return panel
    kept = sorted({round(i * (len(cells) - 1) / (PRINTED_ROWS - 1)) for i in range(PRINTED_ROWS)})
    note = f"{len(kept)} of the {len(cells)} points drawn, evenly spaced; the run page lists them all."
    table = {**panel["table"], "cells": [cells[i] for i in kept]}
    return {**panel, "table": table, "note": " ".join(filter(None, [panel["note"], note]))}


def context(run, *, results, charts, fingerprints, finished_at, metrics=(), on_screen=False) -> dict:
    version = run.version
    counts = {"pass": 0, "warn": 0, "fail": 0, "skipped": 0}
    for row in results:
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
    return {
        "run": run,
        "version": version,
        "model": version.model,
        "plan": run.plan_snapshot,
        "results": results,
        "metrics": list(metrics),
        "headline": [m for m in metrics if m.get("headline")],
        "counts": counts,
        "fingerprints": fingerprints,
        "chart_groups": chart_facts.grouped([_printable(p) for p in _svg_charts(run, charts)]),
        "on_screen": on_screen,
        "findings": Finding.objects.filter(version=version).select_related("owner", "raised_by").order_by("id"),
        "finished_at": finished_at,
    }


def render_html(run, *, csp_nonce: str = "", **parts) -> str:
    """The report; `on_screen=True` adds the page's way back to Vigil (the PDF has none). On a page, its style
    elements (the report's and those matplotlib writes in each SVG chart) carry the page's CSP nonce: every "<style"
    in the document is markup of the template or of matplotlib, since text from records is escaped."""
    html = render_to_string("risk/report.html", context(run, **parts))
    return html.replace("<style", f'<style nonce="{csp_nonce}"') if csp_nonce else html


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported here: only workers that finish runs need its system libraries

    return HTML(string=html).write_pdf()


def file_name(run) -> str:
    return f"validation-report-{run.version.model.key}-{run.version.version}-run{run.pk}.pdf"
