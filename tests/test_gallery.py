"""`teachkit gallery` and exported notebooks: pages that open offline, players that play in them.

The lesson pages are opened in headless Chromium from ``file://`` with every
request routed: anything that is not ``file://`` fails the test, and so does a
page error or a blocked resource.  Every player on a page must step with the
arrow keys, its caption following the frame data embedded in the page.  The
course pages come from :mod:`course_run` (each course notebook runs once per
session, shared with tests/test_notebooks.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from course_run import NOTEBOOKS
from teachkit import gallery
from teachkit.cli import main as cli_main
from teachkit.views import player_export

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
LESSON = [
    nbformat.v4.new_markdown_cell("# 1. A lesson for the *gallery* test\n\nOne player, one in a box, a DAG and a "
                                  "timeline. Next: [the other lesson](b_other.ipynb)."),
    nbformat.v4.new_code_cell('import teachkit\nrec = teachkit.Recording.load(teachkit.example_path("killed"))\n'
                              "rec.play()"),
    nbformat.v4.new_code_cell("import ipywidgets\nipywidgets.VBox([teachkit.Player(rec)])"),
    nbformat.v4.new_code_cell("rec.job().task_dag()"),
    nbformat.v4.new_code_cell("rec.job().timeline()"),
]
OTHER = [nbformat.v4.new_markdown_cell("# 2. Another lesson\n\nBack to [the first](a_lesson.ipynb).")]


@pytest.fixture(scope="module")
def lessons(tmp_path_factory, graphviz_dot) -> tuple[list[Path], dict[str, nbformat.NotebookNode]]:
    """Two small notebooks on disk, and their executed copies (run once by teachkit's own executor)."""
    folder = tmp_path_factory.mktemp("lessons")
    paths = []
    for name, cells in (("a_lesson", LESSON), ("b_other", OTHER)):
        nb = nbformat.v4.new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, folder / f"{name}.ipynb")
        paths.append(folder / f"{name}.ipynb")
    executed = {paths[0].name: gallery.run_notebook(paths[0], timeout=120),
                paths[1].name: nbformat.read(paths[1], as_version=4)}
    return paths, executed


def never(*_):
    raise AssertionError("no notebook should run: all were given executed")


# -- building --------------------------------------------------------------------------------
def test_players_are_found_in_the_widget_state(lessons):
    _, executed = lessons
    nb = executed["a_lesson.ipynb"]
    found = player_export.players_in_widget_state(nb)
    views = [o["data"][player_export.WIDGET_VIEW]["model_id"] for c in nb.cells for o in c.get("outputs", [])
             if player_export.WIDGET_VIEW in o.get("data", {})]
    assert len(views) == 2 and all(v in found for v in views), "the player and the box holding one"
    assert [len(found[v]) for v in views] == [1, 1]
    assert all(d["frames"]["steps"] for v in views for d in found[v])


def test_build_from_executed_notebooks(lessons, tmp_path):
    paths, executed = lessons
    lines: list[str] = []
    site = gallery.build(tmp_path / "site", paths, executed=executed, run=never, cluster_check=never,
                         write=lines.append)
    assert [p.file for p in site.pages] == ["a_lesson.html", "b_other.html"]
    assert [p.title for p in site.pages] == ["1. A lesson for the gallery test", "2. Another lesson"]
    assert site.pages[0].players == 2 and site.pages[1].players == 0
    assert any("executed copy" in line for line in lines) and str(site) in lines
    index = (tmp_path / "site" / "index.html").read_text()
    assert 'href="a_lesson.html"' in index and 'href="b_other.html"' in index
    page = (tmp_path / "site" / "a_lesson.html").read_text()
    assert 'href="b_other.html"' in page and "b_other.ipynb" not in page  # links between lessons
    assert "<script src=" not in page and "widget-state+json" not in page
    assert page.count("data-teachkit-export") == 2
    assert executed["a_lesson.ipynb"].metadata.get("widgets"), "the caller's notebook keeps its widget state"


def test_no_cluster_is_one_clear_sentence(lessons, tmp_path, capsys, monkeypatch):
    paths, executed = lessons
    with pytest.raises(gallery.NoClusterError) as err:
        gallery.build(tmp_path / "site", paths, run=never, cluster_check=lambda: "Nanny failed to start",
                      write=lambda _: None)
    text = str(err.value)
    assert "Nanny failed to start" in text and "teachkit doctor" in text and "--executed" in text
    # the hook for "no cluster can start" makes the notebooks instead
    made = []
    site = gallery.build(tmp_path / "site", paths, cluster_check=lambda: "no processes here", run=never,
                         no_cluster=lambda p: made.append(p.name) or executed[p.name], write=lambda _: None)
    assert made == ["a_lesson.ipynb", "b_other.ipynb"]
    assert [p.origin for p in site.pages] == ["no-cluster", "no-cluster"]
    # the command line says it in one line, exit code 1, when replay is ruled out (else it replays: test_replay.py)
    monkeypatch.setenv("TEACHKIT_REPLAY", "0")
    monkeypatch.setattr(gallery, "cluster_problem", lambda: "no processes here")
    assert cli_main(["gallery", "--out", str(tmp_path / "cli"), "--notebooks", str(paths[0].parent)]) == 1
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert len(err_lines) == 1 and err_lines[0].startswith("teachkit gallery: No local cluster can start")


def test_cli_builds_from_an_executed_folder(lessons, tmp_path, capsys):
    paths, executed = lessons
    folder = tmp_path / "executed"
    folder.mkdir()
    for name, nb in executed.items():
        nbformat.write(nb, folder / name)
    assert cli_main(["gallery", "--out", str(tmp_path / "site"), "--notebooks", str(paths[0].parent),
                     "--executed", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "[1/2] a_lesson: executed copy" in out and "2 lessons" in out
    assert sorted(p.name for p in (tmp_path / "site").iterdir()) == ["a_lesson.html", "b_other.html", "index.html"]


# -- in a browser, offline -------------------------------------------------------------------
def open_offline(browser, path: Path, viewport=(1280, 800)):
    """Open a page from file:// with every other request aborted and recorded; (context, page, problems)."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    problems: list[str] = []

    def route(r):
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            problems.append(f"request: {r.request.url}")
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return context, page, problems


def check_page(page, players: int) -> None:
    """Every picture shows; every player steps with the arrow keys and its caption follows its frames."""
    broken = page.evaluate("""() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))
                                .map(i => i.src.slice(0, 60))""")
    assert broken == []
    empty = page.evaluate("""() => [...document.querySelectorAll('.jp-OutputArea-output svg')]
        .filter(s => !s.closest('[data-teachkit-player]') && !(s.parentElement && s.parentElement.closest('svg')))
        .filter(s => { const r = s.getBoundingClientRect(); return r.width < 20 || r.height < 20; }).length""")
    assert empty == 0, "an SVG picture shows at no size"
    roots = page.locator("[data-teachkit-player]")
    assert roots.count() == players
    for k in range(players):
        root = roots.nth(k)
        root.scroll_into_view_if_needed()
        root.wait_for(state="visible")
        assert root.get_attribute("data-step") == "0"
        root.focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        assert root.get_attribute("data-step") == "2"
        page.keyboard.press("ArrowLeft")
        assert root.get_attribute("data-step") == "1"
        want = root.evaluate("""r => { const host = r.closest('[data-teachkit-export]');
            return JSON.parse(document.getElementById(host.id + '-data').textContent).frames.steps[1].caption; }""")
        assert root.locator("[data-role=caption]").inner_text() == want


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_site_pages_open_offline_and_players_step(lessons, tmp_path, browser):
    paths, executed = lessons
    site = gallery.build(tmp_path / "site", paths, executed=executed, run=never, cluster_check=never,
                         write=lambda _: None)
    for page_info in site.pages:
        context, page, problems = open_offline(browser, site.out / page_info.file)
        try:
            check_page(page, page_info.players)
            if page_info.players:  # presenter mode works inside an nbconvert page too
                page.locator("[data-teachkit-player]").first.focus()
                page.keyboard.press("p")
                assert page.locator("[data-present=true]").count() == 1
                page.keyboard.press("Escape")
                assert page.locator("[data-present=true]").count() == 0
        finally:
            context.close()
        assert problems == [], page_info.file
    context, page, problems = open_offline(browser, site.out / "index.html")
    try:
        page.click("text=2. Another lesson")
        page.wait_for_load_state("load")
        assert page.url.endswith("b_other.html")
        page.click("text=the first")
        assert page.url.endswith("a_lesson.html")
    finally:
        context.close()
    assert problems == []


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_plain_nbconvert_export_plays_offline(lessons, tmp_path, browser):
    """`jupyter nbconvert --to html` (default settings) of a notebook saved as JupyterLab saves it (no widget
    state): the page's CDN scripts fail offline, and the player still plays from its text/html twin.  (The
    player inside a box has no twin of its own: only teachkit gallery, which reads the widget state, shows it.)"""
    from nbconvert import HTMLExporter

    _, executed = lessons
    nb = nbformat.from_dict(executed["a_lesson.ipynb"])
    nb.metadata.pop("widgets")
    body, _ = HTMLExporter().from_notebook_node(nb)
    path = tmp_path / "exported.html"
    path.write_text(body, encoding="utf-8")
    context, page, problems = open_offline(browser, path)
    try:
        page.wait_for_selector("[data-teachkit-player] [data-node]")
        check_page(page, 1)
    finally:
        context.close()
    cdn = [p for p in problems if p.startswith(("request:", "failed:", "console:"))]
    assert all("cdnjs.cloudflare.com" in p or "ERR_FAILED" in p for p in cdn), cdn
    assert not [p for p in problems if p.startswith("page error")]


# -- the course --------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_course_page_offline(path, course_run, tmp_path, browser, graphviz_dot):
    nb = course_run(path)
    text, players = gallery.page_html(nb, path.stem, site_names={p.stem for p in NOTEBOOKS})
    out = tmp_path / f"{path.stem}.html"
    out.write_text(text, encoding="utf-8")
    found = player_export.players_in_widget_state(nb)
    shown = [o["data"][player_export.WIDGET_VIEW]["model_id"] for c in nb.cells for o in c.get("outputs", [])
             if player_export.WIDGET_VIEW in o.get("data", {})]
    assert players == sum(len(found.get(model, [])) for model in shown)  # every player the notebook showed
    context, page, problems = open_offline(browser, out)
    try:
        check_page(page, players)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"gallery-{path.stem}.png"))
    finally:
        context.close()
    assert problems == []


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_course_site(course_run, tmp_path, graphviz_dot):
    executed = {p.name: course_run(p) for p in NOTEBOOKS}
    site = gallery.build(tmp_path / "site", NOTEBOOKS, executed=executed, run=never, cluster_check=never,
                         write=lambda _: None)
    assert [p.source for p in site.pages] == [p.name for p in NOTEBOOKS]
    assert all(p.title and p.bytes > 0 for p in site.pages)
    summary = {"pages": [p.file for p in site.pages], "megabytes": round(site.bytes / 1e6, 2),
               "players": sum(p.players for p in site.pages)}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "gallery-site.json").write_text(json.dumps(summary))
    print(f"\ncourse site: {summary}")
