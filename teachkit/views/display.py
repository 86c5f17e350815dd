"""Display objects returned by the views: a Graphviz graph, an SVG drawing, HTML, a message.

Each shows itself as the last line of a notebook cell with exactly **one** rich
type plus plain text, so a saved notebook stores each picture once, and saves
to a file.  The rich type is HTML for every picture: an SVG is shown inline
(its tooltips work, which they do not in an ``<img>``), with a ``viewBox`` and
``max-width: 100%``, so it scales to the width it is given in JupyterLab, in a
classic notebook and in an exported page alike.  Building a picture (testable
without any program) is kept apart from rendering it (:meth:`DotGraph.svg`
runs Graphviz's ``dot``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from teachkit.errors import TeachkitError
from teachkit.views.style import FONT, esc


class DotMissingError(TeachkitError, RuntimeError):
    """Graphviz's ``dot`` program is not installed, so a graph cannot be drawn."""


#: Inline SVG scales down to its column (graphviz's SVG root takes no style of its own).
_SCALE = "<style>.tk-picture > svg {max-width: 100%; height: auto}</style>"


class View:
    """Base: ``kind`` names the view, ``message`` is set when there is nothing to draw."""

    kind = "view"
    message: str | None = None

    def fragment(self) -> str:  # pragma: no cover - subclasses
        """The picture as a fragment for an HTML page."""
        raise NotImplementedError

    def svg(self) -> str:  # pragma: no cover - subclasses
        """The picture as a standalone SVG document."""
        raise NotImplementedError

    def html(self) -> str:
        """A small HTML page showing the picture."""
        return f'<!DOCTYPE html><meta charset="utf-8"><body style="margin:8px">{self.fragment()}</body>'

    def save(self, path: str | os.PathLike) -> Path:
        """Write the picture (SVG for ``.svg``, HTML otherwise) and return the path."""
        path = Path(path)
        text = self.svg() if path.suffix.lower() == ".svg" else self.html()
        path.write_text(text, encoding="utf-8")
        return path

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/html": self.fragment(), "text/plain": repr(self)}


class Message(View):
    """What a view returns when there is nothing to draw (an empty job, no shuffle ...).

    >>> m = Message("This job has no tasks.")
    >>> str(m)
    'This job has no tasks.'
    >>> sorted(m._repr_mimebundle_())
    ['text/html', 'text/plain']
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

    def fragment(self) -> str:
        return (f'<div style="font-family:{FONT};padding:8px 12px;border-left:4px solid #0072B2;'
                f'background:#F2F7FB;max-width:60em"><b>{esc(self.title)}</b>: {esc(self.message)}</div>')

    def svg(self) -> str:
        width = max(300, 8 * len(self.message) + 40)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="40" viewBox="0 0 {width} 40" '
                f'font-family="{FONT}"><text x="10" y="25" font-size="14">{esc(self.message)}</text></svg>')


class SvgDrawing(View):
    """A standalone SVG picture (no JavaScript needed), shown inline so its tooltips work.

    ``.svg()`` gives the SVG document, ``.save(path)`` writes it; ``info`` says
    what the drawing shows, as data (for tests and the player).
    """

    def __init__(self, svg: str, kind: str = "svg", info: dict | None = None) -> None:
        self._svg = svg
        self.kind = kind
        self.info = dict(info or {})

    def svg(self) -> str:
        return self._svg

    def fragment(self) -> str:
        # a viewBox and max-width 100%: the drawing scales down to the column it is given, never cut off
        return f'<div class="tk-picture">{_SCALE}{self._svg}</div>'

    def __repr__(self) -> str:
        return f"<teachkit {self.kind}: {len(self._svg)} characters of SVG>"


class HtmlView(View):
    """An HTML fragment (a table): ``.html()``, ``.save(path)``; it scrolls sideways when wider than its column."""

    def __init__(self, fragment: str, kind: str = "html", info: dict | None = None) -> None:
        self._html = fragment
        self.kind = kind
        self.info = dict(info or {})

    def fragment(self) -> str:
        return f'<div style="max-width:100%;overflow-x:auto">{self._html}</div>'

    def svg(self) -> str:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="900" height="900" viewBox="0 0 900 900">'
                f'<foreignObject width="100%" height="100%"><div xmlns="http://www.w3.org/1999/xhtml">{self._html}'
                f'</div></foreignObject></svg>')

    def __repr__(self) -> str:
        return f"<teachkit {self.kind} (HTML)>"


class DotGraph(View):
    """A Graphviz graph (a ``graphviz.Digraph``): ``.source`` is its DOT text; ``.svg()`` runs ``dot`` once.

    Node ids are stable and free of dashes (Graphviz escapes ``-`` in SVG ids),
    see :mod:`teachkit.views.dag` for the scheme.
    """

    def __init__(self, graph: Any, kind: str = "dag", info: dict | None = None) -> None:
        self.graph = graph
        self.kind = kind
        self.info = dict(info or {})
        self._svg: str | None = None

    @property
    def source(self) -> str:
        """The DOT text, as Graphviz's ``dot`` reads it."""
        return self.graph.source

    def svg(self) -> str:
        """The graph rendered to SVG by ``dot`` (raises :class:`DotMissingError` when dot is missing)."""
        if self._svg is None:
            svg = self.pipe("svg").decode("utf-8")
            self._svg = svg[svg.find("<svg"):] if "<svg" in svg else svg  # no XML prologue: it sits in HTML too
        return self._svg

    def fragment(self) -> str:
        return f'<div class="tk-picture">{_SCALE}{self.svg()}</div>'

    def pipe(self, format: str = "svg") -> bytes:
        """Render with ``dot -T<format>`` and return the bytes."""
        import graphviz

        try:
            return self.graph.pipe(format=format)
        except graphviz.ExecutableNotFound:
            raise DotMissingError(
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

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        try:
            svg = self.svg()
        except DotMissingError as exc:
            return {"text/plain": f"{exc}\n\n{self.source}"}
        return {"text/html": f'<div class="tk-picture">{_SCALE}{svg}</div>', "text/plain": repr(self)}

    def __repr__(self) -> str:
        return f"<teachkit {self.kind}: Graphviz graph, {len(self.graph.body)} statements>"
