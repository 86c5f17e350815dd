"""The step-through player: replay a recorded job event by event, forward and back.

``rec.play()`` or ``teachkit.Player(rec, job=...)`` gives an anywidget whose ES
module (``player.js``) does all stepping and playing in the browser: the frame
data (:func:`teachkit.model.frames.build_frames`) and the pictures are sent
once, then no step needs the kernel.  ``player.save("walkthrough.html")``
writes one self-contained HTML file that plays offline with no network request.

Examples
--------
>>> import teachkit
>>> rec = teachkit.Recording.load(teachkit.example_path("pipeline"))
>>> player = teachkit.Player(rec)                       # doctest: +SKIP
>>> player                                              # doctest: +SKIP
>>> player.save("walkthrough.html")                     # doctest: +SKIP
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from teachkit.model.frames import build_frames
from teachkit.model.vocabulary import STATES
from teachkit.views import player_export, player_panes
from teachkit.views.style import STAGE_COLORS, STATE_COLORS, WORKER_COLORS

_HERE = Path(__file__).resolve().parent
_CSS = _HERE / "player.css"


def player_data(rec: Any, job: Any = None, stages: list | None = None) -> dict[str, Any]:
    """Everything the ES module needs, as one JSON-ready dict (frames, SVGs, colours)."""
    if job is None or isinstance(job, (int, str)):
        job = rec.job(-1 if job is None else job)
    frames = build_frames(rec, job, stages=stages)
    return {
        "title": f"{job.name}: step by step",
        "frames": frames.to_json(),
        "states": list(STATES),
        "state_colors": [STATE_COLORS[s] for s in STATES],
        "stage_colors": list(STAGE_COLORS),
        "worker_colors": list(WORKER_COLORS),
        "dag_svg": player_panes.dag_svg(job),
        "timeline": player_panes.timeline_svg(job),
    }



class Player(anywidget.AnyWidget):
    """Step through one recorded job: First, Back, Forward, Last, Play, jumps, caption, synced panes.

    Parameters
    ----------
    rec : Recording
    job : Job, int or str, optional
        Which job (default: the last one).

    ``step`` holds the step shown in the browser (synced back to Python).
    """

    _esm = player_export.esm_source()  # player_parts.js + player.js
    _css = _CSS
    data = traitlets.Dict().tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)

    def __init__(self, rec: Any, job: Any = None, **kwargs: Any) -> None:
        super().__init__(data=player_data(rec, job), **kwargs)

    @property
    def num_steps(self) -> int:
        """Number of steps (M in "step N of M")."""
        return len(self.data["frames"]["steps"])

    def caption(self, n: int | None = None) -> str:
        """The caption of step ``n`` (default: the step shown)."""
        return self.data["frames"]["steps"][self.step if n is None else n]["caption"]

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The live widget, plus a ``text/html`` twin that plays in exported HTML (see :mod:`.player_export`)."""
        return player_export.with_fallback(super()._repr_mimebundle_(**kwargs), self.data)

    def html(self) -> str:
        """One self-contained HTML page (inline module, CSS, SVGs and frame data)."""
        return standalone_html(self.data)

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`html` to ``path`` (plays offline, no network requests)."""
        path = Path(path)
        path.write_text(self.html(), encoding="utf-8")
        return path


def standalone_html(data: dict[str, Any]) -> str:
    """A page that runs ``player.js`` with a tiny stand-in for the widget model."""
    module = player_export.esm_source()
    marker = "export default { render };"
    if marker not in module:  # pragma: no cover - guards edits of player.js
        raise RuntimeError("player.js must end with 'export default { render };'")
    module = module.replace(marker, "")
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    title = html.escape(data.get("title", "teachkit player"))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>{title}</title>
<style>body{{margin:12px;font-family:Helvetica,Arial,sans-serif;background:#fff}}
{_CSS.read_text(encoding="utf-8")}</style></head>
<body><div id="teachkit-player"></div>
<script type="application/json" id="teachkit-data">{payload}</script>
<script type="module">
{module}
const data = JSON.parse(document.getElementById("teachkit-data").textContent);
const values = {{ data, step: 0 }};
const model = {{ get: (k) => values[k], set: (k, v) => {{ values[k] = v; }}, save_changes() {{}}, on() {{}}, off() {{}} }};
render({{ model, el: document.getElementById("teachkit-player") }});
</script></body></html>
"""


def write_walkthrough(rec: Any, path: str | os.PathLike, job: Any = None) -> Path:
    """Write the offline walkthrough of a recorded job (used by ``teachkit demo --out DIR``)."""
    path = Path(path)
    if path.is_dir():
        path = path / "walkthrough.html"
    path.write_text(standalone_html(player_data(rec, job)), encoding="utf-8")
    return path
