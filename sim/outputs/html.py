"""One self-contained HTML report of a run: assumptions with their sources, tables and figures.

The figures are embedded as PNG data, so the file opens in a browser without a server or other files.
"""

from __future__ import annotations

import base64
import html
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.errors import escaped
from ..core.files import atomic_text
from .figures import draw_run_into
from .run_folder import REPORT, RunResults

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.85rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } img { max-width: 100%; } .note { color: #555; font-size: 0.85rem; }
"""


def build(folder: Path) -> Path:
    """Write ``folder/report.html`` for the run in ``folder``; return its path."""
    results = RunResults(folder)
    meta = results.metadata
    with tempfile.TemporaryDirectory() as scratch:  # fresh PNGs, whatever format the run's figures are in
        figures = [(p.stem, base64.b64encode(p.read_bytes()).decode())
                   for p in draw_run_into(results, Path(scratch) / "figures", "png")]
    parts = [
        f"<h1>{html.escape(results.title)}</h1>",
        f"<p>{html.escape(str(meta['scenario']['as_written'].get('description', '')))}</p>",
        _table(pd.DataFrame([
            ("scenario file", meta["scenario"]["file"]), ("SHA-256", meta["scenario"]["sha256"]),
            ("years", f"{meta['years'][0]}-{meta['years'][1]}"), ("rule", results.rule),
            ("replicates", f"{results.replicates:,}"),
            ("seed", meta["seed"]), ("sco-sim", meta["versions"]["sco-sim"]), ("command", " ".join(meta["command"])),
        ], columns=["setting", "value"])),
        "<h2>Results</h2>",
        ("<p class=note>P(adopted): share of replicates in which the proposal was adopted in some year; "
         "95% Wilson interval.</p>"),
        _table(results.summary.round(3)),
        *[f"<h3>{html.escape(name.replace('_', ' ').title())}</h3>"
          f"<img alt='{name}' src='data:image/png;base64,{data}'>" for name, data in figures],
        "<h2>Stances</h2><p class=note>Shares of the decisions a member voted in, at the final offer.</p>",
        _table(results.stances.round(3)),
        "<h2>Assumptions</h2>", _assumptions(meta),
    ]
    page = (f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(results.title)}</title>"
            f"<style>{STYLE}</style><body>{''.join(parts)}</body></html>")
    atomic_text(escaped(page), folder / REPORT)  # a path that is not text (the command's --out) shown escaped
    return folder / REPORT


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, escape=True, na_rep="-")


def _assumptions(meta: dict[str, Any]) -> str:
    """The events and the members' key numbers with the sources the configuration gives for them."""
    events = meta.get("events", [])
    rows = [(e["year"], e.get("note", ""), "; ".join(f"{k} = {v}" for k, v in e.get("set", {}).items())
             + ("; accede " + ", ".join(e["accede"]) if e.get("accede") else "")) for e in events]
    parts = ["<h3>Events</h3>",
             _table(pd.DataFrame(rows, columns=["year", "source", "change"])) if rows else "<p>None.</p>"]
    first = meta["configuration"][min(meta["configuration"], key=int)]
    numbers = []
    for member in first["members"].values():
        if member["status"] != "member":
            continue
        sources = member.get("sources", {})
        for dim, value in member["weights"].items():
            numbers.append((member["name"], f"weights.{dim}", value,
                            sources.get(f"weights.{dim}", sources.get("weights", ""))))
        for other, relation in member.get("relations", {}).items():
            for kind, value in relation.items():
                if value:
                    path = f"relations.{other}.{kind}"
                    numbers.append((member["name"], path, value, sources.get(path, "")))
    parts += ["<h3>Members' key numbers and their sources</h3>",
              "<p class=note>As in force in the first year; docs/provenance.md lists every number.</p>",
              _table(pd.DataFrame(numbers, columns=["member", "value of", "number", "source"]))]
    return "".join(parts)
