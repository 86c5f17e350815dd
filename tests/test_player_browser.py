"""The step-through player in a real browser: in JupyterLab, and as an exported HTML file offline.

Both tests press Forward / Play and check, from the DOM, that every drawn DAG
node shows the state the frame data says for that step.  Screenshots go to
``test-artifacts/``.  Chromium is Debian's (``executable_path``, see conftest).
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

import teachkit
from teachkit.model.frames import STATES
from teachkit.model.vocabulary import WORKER_STATUSES as STATUSES
from teachkit.views.player import player_data, standalone_html

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
NOTEBOOK_CODE = """import teachkit
rec = teachkit.Recording.load(teachkit.example_path("groupby"))
player = rec.play()
player"""


def expected_states(frames: dict, n: int) -> dict[str, str]:
    """Node id -> state name after step ``n``, from the frame data."""
    states = [0] * len(frames["tasks"])
    for step in frames["steps"][: n + 1]:
        for task, state, *_ in step.get("d", ()):
            states[task] = state
    return {f"s{s}p{p}": STATES[states[i]] for i, (s, p) in enumerate(frames["tasks"])}


def dom_states(page, root: str) -> dict[str, str]:
    return page.eval_on_selector(
        root, "r => Object.fromEntries([...r.querySelectorAll('[data-node]')]"
              ".filter(g => /p\\d+$/.test(g.dataset.node)).map(g => [g.dataset.node, g.dataset.state]))")


def dom_cursor(page, root: str, prefix: str) -> tuple[float, str, str]:
    """The timeline cursor's x (from its transform), visibility and label."""
    x, vis, text = page.eval_on_selector(
        root, """(r, p) => { const c = r.querySelector(`[id="${p}cursor"]`);
                  return [c.getAttribute("transform"), c.getAttribute("visibility"),
                          r.querySelector(`[id="${p}cursortext"]`).textContent]; }""", prefix)
    return float(x.removeprefix("translate(").split(",")[0]), vis, text


def cursor_x(timeline: dict, t: float) -> float:
    return timeline["x0"] + (t - timeline["t0"]) * timeline["scale"]


def check_stepping(page, data: dict, root: str = ".tk-player", steps: int = 12) -> list[float]:
    """Press Forward ``steps`` times; after each, the DOM (DAG states, caption, counter, timeline
    cursor) must match the frames. Returns latencies (ms)."""
    frames, tl = data["frames"], data["timeline"]
    page.click(f"{root} .tk-btn >> text=First", force=True)  # disabled at step 1: then a no-op
    drawn = dom_states(page, root)
    assert drawn, "no DAG nodes found in the player"
    bars = page.eval_on_selector(root, f"r => r.querySelectorAll('.tk-timeline-pane [id^=\"{tl['prefix']}b\"]').length")
    assert bars == data["timeline"]["svg"].count(f'id="{tl["prefix"]}b'), "the timeline pane lost bars"
    latencies, xs = [], [dom_cursor(page, root, tl["prefix"])[0]]
    for n in range(1, min(steps, len(frames["steps"]) - 1) + 1):
        latencies.append(_timed_click(page, f"{root} .tk-forward"))
        assert page.eval_on_selector(root, "r => r.dataset.step") == str(n)
        want = expected_states(frames, n)
        got = dom_states(page, root)
        assert got == {k: want[k] for k in got}, f"step {n}: DOM and frames disagree"
        caption = page.inner_text(f"{root} .tk-caption")
        assert caption == frames["steps"][n]["caption"]
        assert page.inner_text(f"{root} .tk-counter") == f"step {n + 1} of {len(frames['steps'])}"
        x, visibility, label = dom_cursor(page, root, tl["prefix"])
        assert visibility == "visible" and label.startswith("t = ")
        assert x == pytest.approx(cursor_x(tl, frames["steps"][n]["t"]), abs=0.01), f"step {n}: cursor misplaced"
        xs.append(x)
    changed = sum(expected_states(frames, n) != expected_states(frames, n - 1) for n in range(1, steps + 1))
    assert changed >= 3, "the first steps should change node states"
    assert xs == sorted(xs) and xs[-1] > xs[0], "the timeline cursor should move forward with the steps"
    return latencies


def _timed_click(page, selector: str) -> float:
    """Click in the page and wait for the next painted frame; milliseconds."""
    return page.evaluate(
        """async (sel) => { const b = document.querySelector(sel); const t = performance.now(); b.click();
           await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
           return performance.now() - t; }""", selector)


def check_play(page, root: str = ".tk-player") -> None:
    page.click(f"{root} .tk-btn >> text=First", force=True)  # disabled at step 1: then a no-op
    page.select_option(f"{root} .tk-speed", "30")
    page.click(f"{root} .tk-play")
    page.wait_for_function(f"() => Number(document.querySelector('{root}').dataset.step) >= 10", timeout=10_000)
    page.click(f"{root} .tk-play")  # pause
    step = page.eval_on_selector(root, "r => Number(r.dataset.step)")
    time.sleep(0.3)
    assert page.eval_on_selector(root, "r => Number(r.dataset.step)") == step, "pause did not stop the player"


def _seed_sized_recording():
    spec = importlib.util.spec_from_file_location("bench_player", ROOT / "benchmarks" / "player.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.simulate(mod.seed_shaped_graph())


def _offline_page(browser, path: Path):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_selector(".tk-player [data-node]", timeout=15_000)
    return context, page, requests, errors


def test_exported_html_plays_offline(browser, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    rec = teachkit.Recording.load(teachkit.example_path("groupby"))
    data = player_data(rec)
    path = tmp_path / "walkthrough.html"
    path.write_text(standalone_html(data), encoding="utf-8")
    context, page, requests, errors = _offline_page(browser, path)
    try:
        check_stepping(page, data, steps=15)
        check_play(page)
        page.click(".tk-jump-stage")
        assert int(page.eval_on_selector(".tk-player", "r => r.dataset.step")) in data["frames"]["bookmarks"]["stage"]
        page.screenshot(path=str(ARTIFACTS / "player-offline.png"), full_page=True)
    finally:
        context.close()
    assert requests == [] and errors == []

    # step latency on a seed-sized job (~2,600 Dask tasks, ~2,000 steps)
    big = player_data(_seed_sized_recording())
    path = tmp_path / "seed.html"
    path.write_text(standalone_html(big), encoding="utf-8")
    context, page, requests, errors = _offline_page(browser, path)
    try:
        latencies = check_stepping(page, big, steps=40)
        page.fill(".tk-slider", str(len(big["frames"]["steps"]) // 2))  # random access: keyframe + deltas
        jump = _timed_click(page, ".tk-forward")
        page.screenshot(path=str(ARTIFACTS / "player-seed-offline.png"), full_page=True)
    finally:
        context.close()
    median, worst = statistics.median(latencies), max(latencies)
    report = {"steps": len(big["frames"]["steps"]), "median_ms": round(median, 1), "max_ms": round(worst, 1),
              "after_jump_ms": round(jump, 1)}
    (ARTIFACTS / "player-step-latency.json").write_text(json.dumps(report))
    print(f"\nplayer step latency (click to painted frame, seed-sized job): {report}")
    assert median <= 50, report
    assert requests == [] and errors == []


def test_restarted_worker_and_the_cursor_label_at_the_end(browser, tmp_path):
    """A worker that joins later is "not started yet" before it joins, not dead; on the last step the timeline
    cursor's label stays inside the picture (it turns to the left of the line at the axis's end)."""
    rec = teachkit.Recording.load(teachkit.example_path("killed"))
    data = player_data(rec)
    late = [w["name"] for w in data["frames"]["workers"] if w["status"] == STATUSES.index("not started yet")]
    assert late, "the killed recording's restarted worker joins after the job was submitted"
    path = tmp_path / "killed.html"
    path.write_text(standalone_html(data), encoding="utf-8")
    context, page, requests, errors = _offline_page(browser, path)
    try:
        page.click(".tk-forward")
        box = f'.tk-worker[data-worker="{late[0]}"]'
        assert page.get_attribute(box, "data-status") == "not started yet"
        assert "not started yet" in page.inner_text(box) and "dead" not in page.inner_text(box)
        page.click(".tk-last")
        inside = page.evaluate("""(p) => { const svg = document.querySelector(".tk-timeline-pane svg");
            const label = svg.querySelector(`[id="${p}cursortext"]`), line = label.parentNode;
            const x = line.transform.baseVal.consolidate().matrix.e, box = label.getBBox();
            return [x + box.x, x + box.x + box.width, svg.viewBox.baseVal.width]; }""", data["timeline"]["prefix"])
        assert 0 <= inside[0] and inside[1] <= inside[2], f"cursor label {inside[:2]} outside 0..{inside[2]}"
        page.screenshot(path=str(ARTIFACTS / "player-killed-last-step.png"), full_page=True)
    finally:
        context.close()
    assert requests == [] and errors == []


# -- JupyterLab -----------------------------------------------------------------------------
@pytest.fixture
def lab(tmp_path):
    """A JupyterLab on 127.0.0.1 with a token, temporary dirs and a temporary copy of the notebook."""
    root = tmp_path / "notebooks"
    root.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(NOTEBOOK_CODE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "player.ipynb")
    env = dict(os.environ)
    for var, sub in (("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTER_CONFIG_DIR", "config"),
                     ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")):
        (tmp_path / sub).mkdir()
        env[var] = str(tmp_path / sub)
    news = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    token = secrets.token_hex(16)
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or "jupyter"
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        [jupyter, "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", "--port=0",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        url = None
        while time.time() < deadline and url is None:
            for info in (tmp_path / "runtime").glob("jpserver-*.json"):
                url = json.loads(info.read_text())["url"].rstrip("/")
            if proc.poll() is not None:
                raise RuntimeError((tmp_path / "lab.log").read_text())
            time.sleep(0.3)
        assert url, "JupyterLab did not start within 60 s"
        yield f"{url}/lab/tree/player.ipynb?token={token}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def run_all(page, shown: str, tries: int = 3) -> None:
    """Run > Run All Cells until ``shown`` appears: on a loaded machine the click can come before the kernel is
    connected and run nothing (the cell stays "[ ]:" with the kernel idle), so it is tried again."""
    for attempt in range(tries):
        page.click(".jp-Notebook .jp-Cell")
        page.locator("li.lm-MenuBar-item", has_text="Run").first.click()
        page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()
        try:
            page.wait_for_selector(shown, timeout=30_000)
            return
        except Exception:
            if attempt == tries - 1:
                raise


def test_player_in_jupyterlab(browser, lab):
    ARTIFACTS.mkdir(exist_ok=True)
    expected = player_data(teachkit.Recording.load(teachkit.example_path("groupby")))
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url else route.abort())
    try:
        page.goto(lab, timeout=60_000)
        page.wait_for_selector(".jp-Notebook", timeout=60_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
        root = ".jp-OutputArea-output .tk-player"
        run_all(page, f"{root} [data-node]")
        check_stepping(page, expected, root=root, steps=12)
        check_play(page, root=root)
        page.screenshot(path=str(ARTIFACTS / "player-jupyterlab.png"), full_page=True)
    finally:
        context.close()
