"""Players that outlive the kernel: the ``text/html`` twin of the player widget.

A notebook output holds several representations and each front end shows one:

- JupyterLab ranks the widget view (``application/vnd.jupyter.widget-view+json``,
  rank -10) above ``text/html`` (rank 50) for trusted outputs, so it shows the
  live widget.
- nbconvert's HTML exporter (7.x, ``display_data_priority``: widget view,
  ``application/javascript``, ``text/html``, ...) takes the widget view only when
  the notebook's metadata holds that widget's saved state
  (``nbconvert.filters.WidgetsDataTypeFilter``); the widget then needs
  ``@jupyter-widgets/html-manager`` and anywidget's front end from a CDN.  With
  no saved state (JupyterLab does not save it by default) it takes ``text/html``.

So :meth:`teachkit.views.player.Player._repr_mimebundle_` adds
:func:`fragment_html`: the same ``player.js`` run inline on the frame data, with
a tiny stand-in for the widget model.  It plays with no kernel and no network.
For notebooks that do hold widget state (run by nbclient or
``nbconvert --execute``), :func:`players_in_widget_state` finds the players'
data in it, so :mod:`teachkit.gallery` can put the same fragment in their place.
"""

from __future__ import annotations

import html
import json
import secrets
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
_EXPORT = "export default { render };"
#: ``_anywidget_id`` of the player's widget model (anywidget sets it to module.ClassName).
PLAYER_MODEL_ID = "teachkit.views.player.Player"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


#: The player's ES module, in order: stateless helpers, then ``render`` and its export.
ESM_PARTS = ("player_parts.js", "player.js")


def esm_source() -> str:
    """The player's ES module (the widget's ``_esm``): :data:`ESM_PARTS` joined into one text."""
    module = "\n".join((_HERE / name).read_text(encoding="utf-8") for name in ESM_PARTS)
    if not module.rstrip().endswith(_EXPORT) or "</script" in module:  # pragma: no cover - guards edits
        raise RuntimeError("player.js must end with 'export default { render };' and never contain '</script'")
    return module


def module_source() -> str:
    """The player's module as a module body for a page: ``render`` defined, nothing exported."""
    return esm_source().replace(_EXPORT, "")


def fragment_html(data: dict[str, Any], element_id: str | None = None) -> str:
    """An HTML fragment that plays the player inline: CSS, frame data and module, no request.

    Parameters
    ----------
    data : dict
        The player's data (:func:`teachkit.views.player.player_data`), as the widget gets it.
    element_id : str, optional
        The id of the element the player renders into (default: a fresh random one, so
        several fragments can share a page).

    Returns
    -------
    str
        ``<div>`` + ``<style>`` + ``<script>`` elements.  Without JavaScript (an
        untrusted notebook, a sanitising viewer) the ``<div>`` says what it is.
    """
    eid = element_id or f"tk-export-{secrets.token_hex(6)}"
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    title = html.escape(str(data.get("title", "teachkit player")))
    css = (_HERE / "player.css").read_text(encoding="utf-8")
    return f"""<div class="tk-export" id="{eid}" data-teachkit-export="">
<p style="font:16px Helvetica,Arial,sans-serif;color:#555">teachkit player: {title}. It plays where JavaScript runs
(an exported page in a browser, or a trusted notebook).</p></div>
<style>{css}</style>
<script type="application/json" id="{eid}-data">{payload}</script>
<script type="module">
{module_source()}
const host = document.getElementById("{eid}");
const values = {{ data: JSON.parse(document.getElementById("{eid}-data").textContent), step: 0 }};
const model = {{ get: (k) => values[k], set: (k, v) => {{ values[k] = v; }}, save_changes() {{}}, on() {{}}, off() {{}} }};
host.replaceChildren();
render({{ model, el: host }});
</script>"""


def with_fallback(bundle: Any, data: dict[str, Any]) -> Any:
    """Add ``text/html`` (:func:`fragment_html`) to a widget's mime bundle (``data`` or ``(data, metadata)``)."""
    if bundle is None:
        return None
    if isinstance(bundle, tuple):
        mimes, meta = bundle
        return {**mimes, "text/html": fragment_html(data)}, meta
    return {**bundle, "text/html": fragment_html(data)}


def players_in_widget_state(nb: Any) -> dict[str, list[dict[str, Any]]]:
    """Model id -> data of every player that model shows, from a notebook's saved widget state.

    A player's own model maps to its data; a box (``children``) maps to the players inside
    it, in order (the live view of ``teachkit.record(..., live=True)`` ends as a box
    holding a player).  Models that show no player are left out.
    """
    state = ((nb.get("metadata") or {}).get("widgets") or {}).get(WIDGET_STATE, {}).get("state", {})
    found: dict[str, list[dict[str, Any]]] = {}

    def players(model_id: str, seen: frozenset = frozenset()) -> list[dict[str, Any]]:
        model = (state.get(model_id) or {}).get("state") or {}
        if model.get("_anywidget_id") == PLAYER_MODEL_ID and isinstance(model.get("data"), dict):
            return [model["data"]]
        out = []
        for child in model.get("children") or []:
            cid = str(child).removeprefix("IPY_MODEL_")
            if cid not in seen:
                out += players(cid, seen | {model_id})
        return out

    for model_id in state:
        shown = players(model_id)
        if shown:
            found[model_id] = shown
    return found
