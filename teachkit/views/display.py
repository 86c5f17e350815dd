"""Display objects returned by the views: a Graphviz graph, an SVG drawing, HTML, a message.

Each displays itself as the last line of a notebook cell and saves to a file.
Building a picture (string work, testable without any program) is kept apart
from rendering it (:meth:`DotGraph.svg` runs Graphviz's ``dot``).
"""

from __future__ import annotations

import os
from pathlib import Path

from teachkit.views.style import FONT, esc


class View:
    """Base: ``kind`` names the view, ``message`` is set when there is nothing to draw."""

    kind = "view"
    message: str | None = None

    def _text(self) -> str:  # pragma: no cover - subclasses
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> Path:
        """Write the picture (SVG for ``.svg``, HTML otherwise) and return the path."""
        path = Path(path)
        text = self.svg() if path.suffix.lower() == ".svg" else self.html()
        path.write_text(text, encoding="utf-8")
        return path

    def svg(self) -> str:
        return self._text()

    def html(self) -> str:
        return f'<!DOCTYPE html><meta charset="utf-8"><body style="margin:8px">{self._repr_html_()}</body>'

    def _repr_html_(self) -> str:
        return self.svg()


class Message(View):
    """What a view returns when there is nothing to draw (an empty job, no shuffle ...).

    >>> m = Message("This job has no tasks.")
    >>> str(m)
    'This job has no tasks.'
    >>> "no tasks" in m._repr_html_()
    True
    """

    kind = "message"

    def __init__(self, text: str, title: str = "teachkit") -> None:
        self.message = text
        self.title = title
        self.source = ""  # like an empty graph: nothing for a player to colour

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"<{self.title}: {self.message}>"

    def _repr_html_(self) -> str:
        return (f'<div style="font-family:{FONT};padding:8px 12px;border-left:4px solid #0072B2;'
                f'background:#F2F7FB;max-width:60em"><b>{esc(self.title)}</b>: {esc(self.message)}</div>')

    def svg(self) -> str:
        width = max(300, 8 * len(self.message) + 40)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="40" font-family="{FONT}">'
                f'<text x="10" y="25" font-size="14">{esc(self.message)}</text></svg>')


class SvgDrawing(View):
    """A standalone SVG picture (no JavaScript needed): ``.svg()``, ``.save(path)``."""

    kind = "svg"

    def __init__(self, svg: str, kind: str = "svg", info: dict | None = None) -> None:
        self._svg = svg
        self.kind = kind
        self.info = dict(info or {})  # what the drawing shows, as data (for tests and the player)

    def _text(self) -> str:
        return self._svg

    def _repr_svg_(self) -> str:
        return self._svg

    def _repr_html_(self) -> str:
        return f'<div style="overflow-x:auto">{self._svg}</div>'

    def __repr__(self) -> str:
        return f"<teachkit {self.kind}: {len(self._svg)} characters of SVG>"


class HtmlView(View):
    """An HTML fragment (a table): ``.html()``, ``.save(path)``."""

    def __init__(self, fragment: str, kind: str = "html", info: dict | None = None) -> None:
        self._html = fragment
        self.kind = kind
        self.info = dict(info or {})

    def _repr_html_(self) -> str:
        return self._html

    def svg(self) -> str:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="900" height="900"><foreignObject width="100%" '
                f'height="100%"><div xmlns="http://www.w3.org/1999/xhtml">{self._html}</div></foreignObject></svg>')

    def __repr__(self) -> str:
        return f"<teachkit {self.kind} (HTML)>"


class DotGraph(View):
    """A Graphviz graph: ``.source`` is the DOT text; ``.svg()`` runs ``dot`` once and caches.

    Node ids are stable and free of dashes (Graphviz escapes ``-`` in SVG ids),
    see :mod:`teachkit.views.dag` for the scheme.
    """

    def __init__(self, source: str, kind: str = "dag", info: dict | None = None) -> None:
        self.source = source
        self.kind = kind
        self.info = dict(info or {})
        self._svg: str | None = None

    def svg(self) -> str:
        """The graph rendered to SVG by ``dot`` (raises a clear error when dot is missing)."""
        if self._svg is None:
            self._svg = self.pipe("svg").decode("utf-8")
        return self._svg

    def pipe(self, format: str = "svg") -> bytes:
        """Render with ``dot -T<format>`` and return the bytes."""
        import graphviz

        try:
            return graphviz.pipe("dot", format, self.source.encode("utf-8"))
        except graphviz.ExecutableNotFound:
            raise RuntimeError(
                "Graphviz's `dot` program is not installed, so the graph cannot be drawn "
                "(apt-get install graphviz / brew install graphviz / conda install graphviz). "
                "The DOT text is in `.source`."
            ) from None

    def save(self, path: str | os.PathLike) -> Path:
        """Write SVG (``.svg``), PNG (``.png``), DOT (``.dot``/``.gv``) or HTML (other suffixes)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in (".dot", ".gv"):
            path.write_text(self.source, encoding="utf-8")
        elif suffix == ".png":
            path.write_bytes(self.pipe("png"))
        else:
            return super().save(path)
        return path

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        try:
            svg = self.svg()
        except RuntimeError as exc:
            return {"text/plain": f"{exc}\n\n{self.source}"}
        return {"image/svg+xml": svg, "text/plain": repr(self)}

    def __repr__(self) -> str:
        nodes = self.source.count("\n\t") if self.source else 0
        return f"<teachkit {self.kind}: Graphviz graph, ~{nodes} statements>"
