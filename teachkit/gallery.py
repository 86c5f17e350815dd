"""``teachkit gallery``: the course as a static site that opens from ``file://`` with nothing installed.

``build(out)`` runs every course notebook (``notebooks/*.ipynb``, in name order,
one at a time with nbclient, progress on the terminal) and writes one page per
notebook plus ``index.html``.  The pages are nbconvert's (``HTMLExporter``, the
``lab`` template) with every outside asset removed, so a page makes no request
at all:

- the template blocks that load require.js, MathJax, Mermaid and the widget
  manager from CDNs are emptied (TeX in Markdown shows as its source);
- a step-through player's widget is replaced by the player's ``text/html`` twin
  (:mod:`teachkit.views.player_export`), found through the notebook's saved widget state, which is dropped;
- images are already inline (``data:`` URIs); a Content-Security-Policy meta tag forbids any other source, so a
  page stays offline whatever its outputs hold.

Notebooks already executed (``executed=`` a folder or a mapping) are used as
they are: the test suite runs each course notebook once and shares the outputs.

When no worker process can start (``doctor.check_cluster``, or ``TEACHKIT_NO_WORKERS=1`` to rehearse it), the
notebooks that still need a run go to the ``no_cluster`` hook, ``(path) -> executed notebook``.  ``teachkit gallery``
passes :func:`replay_notebook`: the notebook runs in replay mode
(``TEACHKIT_REPLAY=1``, see :mod:`teachkit.replay_mode`), every record block
showing the shipped recording of its run, so every page is still built.  With
``TEACHKIT_REPLAY=1`` the pages come from replay even where a cluster could
start; with ``TEACHKIT_REPLAY=0``, or with no hook (``build(...)`` called
without one), the build stops with a :class:`NoClusterError` that says what to do.

Examples
--------
>>> from teachkit import gallery
>>> site = gallery.build("site")                                # doctest: +SKIP
>>> site = gallery.build("site", executed="executed-notebooks")  # doctest: +SKIP
"""

from __future__ import annotations

import html
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from teachkit.errors import TeachkitError

#: Seconds one cell may run before the build gives up on its notebook.
CELL_TIMEOUT = 600
#: No network: inline scripts and styles, images as data: URIs, nothing else.
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data:; font-src data:")
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}<meta http-equiv="Content-Security-Policy" content="{{ resources.teachkit_csp }}">
{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block body_header -%}{{ super() }}{{ resources.teachkit_nav }}{%- endblock body_header -%}
{%- block body_footer -%}{{ resources.teachkit_nav }}{{ super() }}{%- endblock body_footer -%}
"""
_NAV_CSS = ("display:flex;gap:18px;align-items:center;font:16px Helvetica,Arial,sans-serif;padding:10px 14px;"
            "margin:0 0 12px;background:#F4F4F4;border-bottom:2px solid #E69F00")


class GalleryError(TeachkitError):
    """The course site cannot be built; the message says why and what to do."""


class NoClusterError(GalleryError):
    """No worker process can start here, so the notebooks cannot run."""


Runner = Callable[[Path], Any]


@dataclass
class Page:
    """One lesson page of the site."""

    source: str  # the notebook's file name
    title: str
    summary: str
    file: str  # the page's file name in the site
    bytes: int = 0
    players: int = 0
    origin: str = "run"  # "run", "executed" or "no-cluster"


@dataclass
class Site:
    """What :func:`build` wrote."""

    out: Path
    pages: list[Page] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def bytes(self) -> int:
        return sum(p.bytes for p in self.pages) + (self.out / "index.html").stat().st_size

    def __str__(self) -> str:
        lines = [f"{self.out / 'index.html'}: {len(self.pages)} lessons, {self.bytes / 1e6:.1f} MB in all, "
                 f"built in {self.seconds:.0f} s"]
        lines += [f"  {p.file:<40} {p.bytes / 1e6:6.2f} MB  {p.players} player(s)  ({p.origin})" for p in self.pages]
        return "\n".join(lines)


def course_notebooks(folder: str | os.PathLike = "notebooks") -> list[Path]:
    """The course notebooks in ``folder``, in name order (``NN_name.ipynb``)."""
    folder = Path(folder)
    paths = sorted(folder.glob("*.ipynb"))
    if not paths:
        raise GalleryError(f"No notebooks in {folder}/: run `teachkit gallery` from the teachkit folder "
                           "or pass --notebooks DIR.")
    return paths


def run_notebook(path: str | os.PathLike, *, timeout: int = CELL_TIMEOUT, workdir: str | os.PathLike | None = None,
                 env: Mapping[str, str] | None = None, progress: Callable[[str], object] | None = None) -> Any:
    """Execute a copy of a notebook on a fresh ``python3`` kernel and return it (the file is not changed).

    Parameters
    ----------
    path : path
        The notebook.
    timeout : int
        Seconds a cell may run.
    workdir : path, optional
        The kernel's working directory (default: a temporary one, removed afterwards),
        so the files a notebook writes do not land next to the course.
    env : mapping, optional
        Extra environment variables for the kernel (e.g. a replay switch).
    progress : callable, optional
        Called with ``"."`` after each code cell.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)

    def tick(**_: Any) -> None:
        if progress is not None:
            progress(".")

    with tempfile.TemporaryDirectory(prefix="teachkit-gallery-") as tmp:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", on_cell_executed=tick,
                                resources={"metadata": {"path": str(workdir or tmp)}})
        try:
            client.execute(env={**os.environ, **(env or {})})
        except CellExecutionError as exc:
            first = str(exc).strip().splitlines()
            raise GalleryError(f"{path.name} failed while running ({first[-1] if first else exc}): "
                               "run it in JupyterLab to see the error, or run `teachkit doctor`.") from exc
    return nb


def cluster_problem() -> str | None:
    """Why no local cluster can start (or is wanted) here, or None (``teachkit doctor``'s cluster check)."""
    from teachkit import doctor, replay_mode

    if replay_mode.replaying():
        return f"replay mode was asked for ({replay_mode.REPLAY_ENV}=1)"
    rehearsal = replay_mode.simulated_failure()
    if rehearsal is not None:
        return rehearsal
    check = doctor.check_cluster()
    return None if check.ok else check.detail


def collect(notebooks: Sequence[Path], executed: Mapping[str, Any] | str | os.PathLike | None = None, *,
            run: Runner | None = None, no_cluster: Runner | None = None,
            cluster_check: Callable[[], str | None] | None = None,
            write: Callable[[str], object] = print) -> list[tuple[Path, Any, str]]:
    """``(notebook, executed notebook, origin)`` for each notebook: taken from ``executed`` or run now.

    ``executed`` maps a notebook's file name (or stem) to its executed copy, or is a folder
    holding executed copies under the same names.  The others run one at a time with
    ``run`` (default :func:`run_notebook`), after one check that a cluster can start
    (``cluster_check``, default :func:`cluster_problem`); when it cannot,
    ``no_cluster(path)`` makes the notebook instead, or :class:`NoClusterError`.
    """
    done = _executed(executed)
    todo = [p for p in notebooks if p.name not in done and p.stem not in done]
    problem = (cluster_check or cluster_problem)() if todo else None
    if problem is not None and no_cluster is None:
        raise NoClusterError(
            f"No local cluster can start here ({problem}), so the {len(todo)} course notebook(s) cannot run: "
            "run `teachkit doctor` to see why, or build from notebooks executed elsewhere with --executed DIR.")
    make = (no_cluster if problem is not None else run) or _default_run(write)
    out = []
    for k, path in enumerate(notebooks, 1):
        head = f"  [{k}/{len(notebooks)}] {path.stem}: "
        if path.name in done or path.stem in done:
            write(f"{head}executed copy")
            out.append((path, done.get(path.name, done.get(path.stem)), "executed"))
            continue
        started = time.perf_counter()
        write(f"{head}{'running' if problem is None else f'no cluster ({problem}): the no_cluster hook makes it'}")
        nb = make(path)
        write(f"{head}done in {time.perf_counter() - started:.1f} s")
        out.append((path, nb, "run" if problem is None else "no-cluster"))
    return out


def build(out: str | os.PathLike, notebooks: Sequence[str | os.PathLike] | str | os.PathLike | None = None, *,
          executed: Mapping[str, Any] | str | os.PathLike | None = None, run: Runner | None = None,
          no_cluster: Runner | None = None, cluster_check: Callable[[], str | None] | None = None,
          write: Callable[[str], object] = print) -> Site:
    """Write the course site to ``out``: ``index.html`` and one page per notebook.

    Parameters
    ----------
    out : path
        The site's folder (created; existing pages are overwritten).
    notebooks : folder or list of paths, optional
        The course notebooks (default: ``notebooks/`` here).
    executed, run, no_cluster, cluster_check
        Where executed notebooks come from: see :func:`collect`.
    write : callable
        Progress lines (default: print).

    Returns
    -------
    Site
        The pages written, their sizes and the build time.
    """
    started = time.perf_counter()
    if notebooks is None or isinstance(notebooks, (str, os.PathLike)):
        paths = course_notebooks(notebooks or "notebooks")
    else:
        paths = [Path(p) for p in notebooks]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write(f"teachkit gallery: {len(paths)} course notebooks -> {out}/")
    runs = collect(paths, executed, run=run, no_cluster=no_cluster, cluster_check=cluster_check, write=write)
    pages = [Page(p.name, *_title_and_summary(nb, p.stem), file=f"{p.stem}.html", origin=origin)
             for p, nb, origin in runs]
    names = {p.stem for p in paths}
    for k, ((path, nb, _), page) in enumerate(zip(runs, pages)):
        text, page.players = page_html(nb, page.title, nav=_nav(pages, k), site_names=names)
        (out / page.file).write_text(text, encoding="utf-8")
        page.bytes = (out / page.file).stat().st_size
        write(f"  wrote {page.file} ({page.bytes / 1e6:.2f} MB, {page.players} player(s))")
    (out / "index.html").write_text(index_html(pages), encoding="utf-8")
    site = Site(out, pages, time.perf_counter() - started)
    write(str(site))
    return site


def page_html(nb: Any, title: str, nav: str = "", site_names: set[str] = frozenset()) -> tuple[str, int]:
    """One notebook as an offline page (nbconvert's lab template, no outside asset); ``(html, players)``."""
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    nb = nbformat.from_dict(nb)  # a copy: the caller's notebook keeps its outputs and widget state
    players = _inline_players(nb)
    exporter = HTMLExporter(extra_loaders=[DictLoader({"teachkit_gallery.html.j2": _TEMPLATE})],
                            template_file="teachkit_gallery.html.j2", embed_images=True)
    resources = {"metadata": {"name": title}, "teachkit_nav": nav, "teachkit_csp": CSP}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    # links between lessons point at their pages
    body = re.sub(r'href="(?:\./)?([\w.-]+)\.ipynb(#[^"]*)?"',
                  lambda m: f'href="{m[1]}.html{m[2] or ""}"' if m[1] in site_names else m[0], body)
    return body, players


def index_html(pages: Sequence[Page]) -> str:
    """The site's front page: the lessons in order, each with its first paragraph."""
    items = "\n".join(
        f'<li><a href="{html.escape(p.file)}">{html.escape(p.title)}</a><p>{html.escape(p.summary)}</p></li>'
        for p in pages)
    when = time.strftime("%Y-%m-%d %H:%M")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>teachkit: the course</title>
<style>body{{font:18px/1.45 Helvetica,Arial,sans-serif;max-width:900px;margin:24px auto;padding:0 16px;color:#111}}
h1{{font-size:30px}} li{{margin:0 0 14px}} li a{{font-size:22px;font-weight:bold;color:#0072B2}}
li p{{margin:4px 0 0;color:#333}} .note{{color:#555;font-size:15px;border-top:1px solid #CCC;padding-top:10px}}</style>
</head><body>
<h1>teachkit: Spark's execution model on real Dask runs</h1>
<p>The course, with the outputs of real runs. Every page opens offline; every step-through player plays in the
page (arrow keys once you click it, <b>P</b> for presenter mode).</p>
<ol>
{items}
</ol>
<p class="note">Built by <code>teachkit gallery</code> on {when}. Run the notebooks yourself with
<code>make course</code>.</p>
</body></html>
"""


def _inline_players(nb: Any) -> int:
    """Replace widget outputs by the players' HTML twins (or a note); drop the widget state. Returns the players."""
    from teachkit.views import player_export

    found = player_export.players_in_widget_state(nb)
    count = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            view = data.get(player_export.WIDGET_VIEW)
            if view is None:
                continue
            del data[player_export.WIDGET_VIEW]
            shown = found.get(view.get("model_id"), [])
            if shown:
                data["text/html"] = "\n".join(player_export.fragment_html(d) for d in shown)
                count += len(shown)
            elif "text/html" in data:  # a player shown with its twin, its widget state not saved
                count += data["text/html"].count("data-teachkit-export")
            else:
                data["text/html"] = "<p><i>(a live widget: it shows while the notebook runs in Jupyter)</i></p>"
    nb.metadata.pop("widgets", None)
    return count


def _title_and_summary(nb: Any, fallback: str) -> tuple[str, str]:
    """The first Markdown heading and the paragraph after it, as plain text."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.strip().splitlines()
        if lines and lines[0].startswith("# "):
            paragraphs = "\n".join(lines[1:]).strip().split("\n\n")
            text = paragraphs[0]
            if text.rstrip().endswith(":") and len(paragraphs) > 1:  # "...in three steps:" and the list it opens
                text += " " + re.sub(r"^\s*(?:[-*]|\d+\.)\s+", "", paragraphs[1], flags=re.M)
            summary = " ".join(re.sub(r"[*_`]|\[([^]]*)\]\([^)]*\)", lambda m: m[1] or "", text).split())
            return _plain(lines[0][2:]), summary if len(summary) <= 320 else summary[:320].rsplit(" ", 1)[0] + " …"
    return fallback.replace("_", " "), ""


def _plain(text: str) -> str:
    return re.sub(r"[*_`]", "", text).strip()


def _nav(pages: Sequence[Page], k: int) -> str:
    def link(i: int, label: str) -> str:
        if 0 <= i < len(pages):
            return f'<a href="{html.escape(pages[i].file)}">{label} {html.escape(pages[i].title)}</a>'
        return ""

    return (f'<nav class="tk-gallery-nav" style="{_NAV_CSS}"><a href="index.html"><b>teachkit course</b></a>'
            f"{link(k - 1, '←')}<span style='flex:1'></span>{link(k + 1, '→')}</nav>")


def _executed(executed: Mapping[str, Any] | str | os.PathLike | None) -> dict[str, Any]:
    if executed is None:
        return {}
    if isinstance(executed, Mapping):
        return dict(executed)
    import nbformat

    folder = Path(executed)
    if not folder.is_dir():
        raise GalleryError(f"--executed {folder}: no such folder; pass a folder of executed notebooks.")
    return {p.name: nbformat.read(p, as_version=4) for p in sorted(folder.glob("*.ipynb"))}


def _default_run(write: Callable[[str], object]) -> Runner:
    """:func:`run_notebook`, with a dot per cell on an interactive terminal."""
    dots = write is print and sys.stdout.isatty()
    return lambda path: run_notebook(path, progress=_dot if dots else None)


def _dot(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def replay_notebook(path: str | os.PathLike, *, timeout: int = CELL_TIMEOUT,
                    progress: Callable[[str], object] | None = None) -> Any:
    """The ``no_cluster`` hook of ``teachkit gallery``: run a notebook in replay mode (no worker process)."""
    from teachkit.replay_mode import REPLAY_ENV

    return run_notebook(path, timeout=timeout, env={REPLAY_ENV: "1"}, progress=progress)


def main(args: Any) -> int:
    """``teachkit gallery``: build the site; a problem is one sentence on stderr and exit code 1."""
    from teachkit.replay_mode import never

    dots = _dot if sys.stdout.isatty() else None
    replay = None if never() else (lambda path: replay_notebook(path, timeout=args.timeout, progress=dots))
    try:
        build(args.out, args.notebooks, executed=args.executed, no_cluster=replay,
              run=lambda path: run_notebook(path, timeout=args.timeout, progress=dots))
    except GalleryError as exc:
        print(f"teachkit gallery: {exc}", file=sys.stderr)
        return 1
    return 0
