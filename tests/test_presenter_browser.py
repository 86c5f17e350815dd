"""Presenter mode and teaching pace in a real browser: a saved walkthrough, then the live widget in JupyterLab.

Contract (see teachkit/views/player.js): the player's root carries
``data-teachkit-player`` and ``data-present="true"`` while presenting; the
caption carries ``data-role="caption"``.  Beats are the sorted union of the
frame data's bookmark lists plus the first and last step; the expected beats
here are computed from the frame data, never written down.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import teachkit
from teachkit.views.player import player_data, standalone_html
from test_player_browser import lab, run_all  # noqa: F401  (lab: a fixture, JupyterLab with one player notebook)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
PROJECTOR = {"width": 1280, "height": 800}
ROOT_SEL = "[data-teachkit-player]"


def beats_of(frames: dict) -> list[int]:
    m = len(frames["steps"])
    marks = {0, m - 1} | {s for steps in frames["bookmarks"].values() for s in steps}
    return sorted(s for s in marks if 0 <= s < m)


def walkthrough(tmp_path: Path, rec, name: str) -> tuple[Path, dict]:
    data = player_data(rec)
    path = tmp_path / f"{name}.html"
    path.write_text(standalone_html(data), encoding="utf-8")
    return path, data


def open_page(browser, path: Path):
    context = browser.new_context(viewport=PROJECTOR)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    page.goto(path.as_uri())
    page.wait_for_selector(f"{ROOT_SEL} [data-node]")
    return context, page, errors


def step(page) -> int:
    return int(page.get_attribute(ROOT_SEL, "data-step"))


def outside_viewport(page) -> list[str]:
    """Visible parts of the player that stick out of the window, and whether the page scrolls."""
    return page.evaluate("""(sel) => {
        const out = [], W = innerWidth, H = innerHeight;
        if (document.documentElement.scrollHeight > H || document.documentElement.scrollWidth > W) out.push('page scrolls');
        const parts = ['.tk-head', '[data-role=caption]', '.tk-controls', '.tk-jumps', '.tk-slider', '.tk-dag',
                       '.tk-cluster', '.tk-timeline-pane', '.tk-timeline-pane svg', '.tk-dag svg'];
        for (const p of parts) {
            const e = document.querySelector(sel + ' ' + p); if (!e) { out.push('missing ' + p); continue; }
            const r = e.getBoundingClientRect();
            if (r.left < -1 || r.top < -1 || r.right > W + 1 || r.bottom > H + 1 || r.height < 10) out.push(p + ' ' + JSON.stringify(r));
        }
        return out; }""", ROOT_SEL)


def check_presenting(page) -> None:
    assert page.get_attribute(ROOT_SEL, "data-present") == "true"
    size = page.eval_on_selector(f"{ROOT_SEL} [data-role=caption]", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 28
    assert outside_viewport(page) == []
    # the pictures are scaled to their panes: each fills its pane's width or height (or is at the zoom limit)
    for pane in (".tk-dag", ".tk-timeline-pane"):
        fill = page.eval_on_selector(f"{ROOT_SEL} {pane}", """p => { const s = p.querySelector('svg').getBoundingClientRect();
            const cs = getComputedStyle(p), w = p.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight),
            h = p.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
            return [s.width / w, s.height / h, s.width / Number(p.querySelector('svg').dataset.w)]; }""")
        assert max(fill[:2]) >= 0.9 or fill[2] >= 2.4, (pane, fill)


def test_presenter_mode_in_a_saved_walkthrough(browser, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    path, data = walkthrough(tmp_path, teachkit.Recording.load(teachkit.example_path("killed")), "killed")
    frames = data["frames"]
    beats, m = beats_of(frames), len(frames["steps"])
    assert 5 <= len(beats) < m, "the failure example has stage, shuffle and failure beats"
    context, page, errors = open_page(browser, path)
    try:
        # normal layout: the whole player, timeline included, fits a 1280x800 projector
        assert outside_viewport(page) == []
        assert page.get_attribute(ROOT_SEL, "data-present") == "false"
        # keys do nothing while the player has no focus
        page.keyboard.press("ArrowRight")
        page.keyboard.press("p")
        assert step(page) == 0 and page.get_attribute(ROOT_SEL, "data-present") == "false"
        # every control has an accessible name and is reachable with Tab
        unnamed = page.eval_on_selector(ROOT_SEL, """r => [...r.querySelectorAll('button, select, input')]
            .filter(e => !(e.getAttribute('aria-label') || '').trim()).map(e => e.outerHTML.slice(0, 60))""")
        assert unnamed == []
        page.focus(ROOT_SEL)
        tabbed = set()
        for _ in range(12):
            page.keyboard.press("Tab")
            tabbed.add(page.evaluate("document.activeElement.getAttribute('aria-label')"))
        assert {"Forward", "Play", "Last step", "Present", "Step"} <= tabbed  # First and Back are disabled at step 1

        page.focus(ROOT_SEL)
        page.keyboard.press("p")
        check_presenting(page)
        page.screenshot(path=str(ARTIFACTS / "presenter-mode.png"))
        assert page.get_attribute(ROOT_SEL, "data-by-beats") == "true"
        where = lambda: page.inner_text(f"{ROOT_SEL} .tk-where")  # noqa: E731
        assert where().startswith(f"beat 1 of {len(beats)} · step 1 of {m}")
        # clicker keys step beat by beat, forward and back, even with the focus lost
        for key, want in (("ArrowRight", 1), ("PageDown", 2), (" ", 3), ("ArrowDown", 4), ("ArrowLeft", 3),
                          ("PageUp", 2)):
            page.keyboard.press(key)
            assert step(page) == beats[want], key
        assert where().startswith(f"beat 3 of {len(beats)} · step {beats[2] + 1} of {m}")
        page.evaluate("document.activeElement.blur()")
        page.keyboard.press("ArrowRight")
        assert step(page) == beats[3]
        caption = page.inner_text(f"{ROOT_SEL} [data-role=caption]")
        assert caption == frames["steps"][beats[3]]["caption"]
        # the full step list is one key away, and shown
        page.keyboard.press("a")
        assert page.get_attribute(ROOT_SEL, "data-by-beats") == "false"
        assert "A: beats" in page.inner_text(f"{ROOT_SEL} .tk-hint")
        page.keyboard.press("ArrowRight")
        assert step(page) == beats[3] + 1
        assert where().startswith(f"after beat 4 of {len(beats)}")
        page.keyboard.press("a")
        page.keyboard.press("ArrowRight")
        assert step(page) == beats[4]
        page.keyboard.press("End")
        assert step(page) == m - 1
        check_presenting(page)
        page.keyboard.press("Escape")
        assert page.get_attribute(ROOT_SEL, "data-present") == "false"
        assert page.eval_on_selector(ROOT_SEL, "r => r.parentElement.id") == "teachkit-player"
        assert outside_viewport(page) == []
        # the Present button works too
        page.click(f"{ROOT_SEL} .tk-present")
        assert page.get_attribute(ROOT_SEL, "data-present") == "true"
        page.click(f"{ROOT_SEL} .tk-present")
        assert page.get_attribute(ROOT_SEL, "data-present") == "false"
    finally:
        context.close()
    assert errors == []


def test_presenter_mode_fits_a_seed_sized_job(browser, tmp_path):
    spec = importlib.util.spec_from_file_location("bench_player", ROOT / "benchmarks" / "player.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    path, data = walkthrough(tmp_path, bench.simulate(bench.seed_shaped_graph()), "seed")
    context, page, errors = open_page(browser, path)
    try:
        assert outside_viewport(page) == []
        page.focus(ROOT_SEL)
        page.keyboard.press("P")
        page.keyboard.press("End")
        check_presenting(page)
        page.screenshot(path=str(ARTIFACTS / "presenter-mode-seed.png"))
    finally:
        context.close()
    assert errors == []


def test_presenter_mode_in_jupyterlab(browser, lab):  # noqa: F811
    """The live widget (not its HTML twin) shows; its keys never reach JupyterLab's notebook commands."""
    context = browser.new_context(viewport=PROJECTOR)
    page = context.new_page()
    page.route("**/*", lambda r: r.continue_() if "127.0.0.1" in r.request.url else r.abort())
    try:
        page.goto(lab, timeout=60_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
        root = f".jp-OutputArea-output {ROOT_SEL}"
        run_all(page, f"{root} [data-node]")
        assert page.locator(ROOT_SEL).count() == 1 and page.locator("[data-teachkit-export]").count() == 0
        cells = page.locator(".jp-Notebook .jp-Cell").count()
        # focus outside the player (command mode on the cell): our keys are JupyterLab's
        page.click(".jp-Notebook .jp-Cell .jp-InputPrompt")
        page.keyboard.press("Escape")
        page.keyboard.press("ArrowRight")
        assert page.get_attribute(ROOT_SEL, "data-step") == "0"
        # focus in the player: "a" and "p" are ours ("a" would insert a cell in command mode)
        page.focus(root)
        page.keyboard.press("a")
        assert page.get_attribute(ROOT_SEL, "data-by-beats") == "true"
        page.keyboard.press("a")
        page.keyboard.press("p")
        assert page.get_attribute(ROOT_SEL, "data-present") == "true"
        assert page.eval_on_selector(ROOT_SEL, "r => r.parentElement === document.body")
        check_presenting(page)
        page.keyboard.press("ArrowRight")
        assert int(page.get_attribute(ROOT_SEL, "data-step")) > 0
        page.screenshot(path=str(ARTIFACTS / "presenter-mode-jupyterlab.png"))
        page.keyboard.press("Escape")
        page.wait_for_selector(f"{root}[data-present=false]")
        assert page.locator(".jp-Notebook .jp-Cell").count() == cells, "a key reached the notebook"
    finally:
        context.close()
