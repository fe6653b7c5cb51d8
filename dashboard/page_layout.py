"""The frame every dashboard page shares: the head, the navigation, the flash line the buttons report into, the
static part (buttons, forms) and the live part that the page's event stream replaces. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any


@dataclass(frozen=True)
class View:
    """One page's content: its title, the controls that stay put, and the part kept live by the event stream."""

    title: str
    live_html: str
    controls_html: str = ""
    found: bool = True  # False: what the page is about does not exist (answered 404)


def page_html(view: View, *, stream_path: str, action_key: str, failure: str | None = None) -> str:
    """The whole document. ``action_key`` goes to the scripts (the header actions must carry); ``stream_path`` is
    the event stream whose messages replace the live part."""
    banner = f'<p class="failure" role="alert">{escape(failure)}</p>' if failure else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="dashboard-key" content="{escape(action_key)}">
<title>{escape(view.title)} · rollouts dashboard</title>
<link rel="stylesheet" href="/static/dashboard.css">
<script src="/static/dashboard.js" defer></script>
</head>
<body data-stream="{escape(stream_path)}">
<header><nav><strong>rollouts</strong> <a href="/rollouts">Rollouts</a> <a href="/applications">Applications</a>
<span id="connection" class="connection" title="live updates">●</span></nav></header>
{banner}<h1>{escape(view.title)}</h1>
<p id="flash" class="flash" role="status" aria-live="polite"></p>
<section id="controls">{view.controls_html}</section>
<main id="live">{view.live_html}</main>
</body>
</html>
"""


def not_found_view(what: str) -> View:
    return View("Not found", f'<p class="missing">{escape(what)} was not found (or was deleted).</p>', found=False)


def table_html(headers: list[str], rows: list[list[str]], *, raw_columns: frozenset[int] = frozenset(),
               css_class: str = "") -> str:
    """A table; cells are escaped except in ``raw_columns``, which the caller built from escaped parts."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell if i in raw_columns else escape(cell)}</td>" for i, cell in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f'<table class="{escape(css_class)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def action_button(path: str, label: str, *, confirm: str = "", css_class: str = "",
                  params: Mapping[str, Any] | None = None) -> str:
    """A button the page's script turns into a POST of ``params`` (JSON) to ``path``, with the action header."""
    confirm_attr = f' data-confirm="{escape(confirm)}"' if confirm else ""
    params_attr = f' data-params="{escape(json.dumps(dict(params)))}"' if params else ""
    return (f'<button type="button" class="action {escape(css_class)}" data-action="{escape(path)}"'
            f"{confirm_attr}{params_attr}>{escape(label)}</button>")
