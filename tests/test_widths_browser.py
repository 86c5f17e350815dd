"""Every picture renders whole at 800 px and at 1400 px wide, in Chromium.

Each picture is put in a column of the given width exactly as a notebook shows
it (its one rich type, the HTML of ``_repr_mimebundle_``, with no stylesheet of
the notebook's to help), and the page is checked: an SVG scales down to the
column and every mark it draws stays inside it (an SVG without a ``viewBox``
is shrunk without being scaled, and its right and bottom are cut off); HTML
wider than the column sits in a box that scrolls.  Screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from helpers_views import synthetic_recording

import teachkit
from teachkit.model.recording import Recording
from teachkit.views.display import Message
from teachkit.views.live import progress, stages_html, workers_html

pytestmark = [pytest.mark.browser, pytest.mark.dot, pytest.mark.slow, pytest.mark.timeout(300)]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
WIDTHS = (800, 1400)

CHECK = """
(sections) => sections.map((sec) => {
  const col = sec.querySelector(".col").getBoundingClientRect();
  const bad = [];
  const out = (r, box) => r.right > box.right + 1 || r.left < box.left - 1 || r.bottom > box.bottom + 1 || r.top < box.top - 1;
  for (const svg of sec.querySelectorAll(".col svg")) {
    if (svg.parentElement.closest("svg")) continue;
    const r = svg.getBoundingClientRect();
    if (r.right > col.right + 1 || r.left < col.left - 1) bad.push(`svg ${Math.round(r.width)} px wide`);
    for (const el of svg.querySelectorAll("text, rect, polygon, path, ellipse, line, polyline, circle")) {
      if (el.closest("defs, marker, pattern")) continue;
      const e = el.getBoundingClientRect();
      if ((e.width || e.height) && out(e, r)) bad.push(`${el.tagName} "${(el.textContent || "").slice(0, 30)}" cut off`);
    }
  }
  for (const el of sec.querySelectorAll(".col *")) {
    if (el.closest("svg") || el.tagName === "STYLE") continue;
    const e = el.getBoundingClientRect();
    if (e.right <= col.right + 1) continue;
    let a = el.parentElement, scrolls = false;
    while (a && a !== sec) {
      const o = getComputedStyle(a).overflowX;
      if ((o === "auto" || o === "scroll") && a.getBoundingClientRect().right <= col.right + 1) { scrolls = true; break; }
      a = a.parentElement;
    }
    if (!scrolls) bad.push(`${el.tagName} reaches ${Math.round(e.right - col.left)} px and cannot be scrolled to`);
  }
  return [sec.dataset.name, bad.slice(0, 4)];
})
"""


def pictures() -> list[tuple[str, str]]:
    """(name, the HTML a notebook shows) for every kind of picture, on the shipped recordings and a seed-sized job."""
    out: list[tuple[str, object]] = []
    for name in teachkit.examples():
        rec = Recording.load(teachkit.example_path(name))
        job = rec.jobs[-1]
        mid = job.start + 0.5 * (job.end - job.start)
        reading = next(s for s in job.stages if s.parents)
        out += [(f"{name}: stage DAG", job.stage_dag()), (f"{name}: task DAG", job.task_dag()),
                (f"{name}: task DAG by worker", job.task_dag(color_by="worker")), (f"{name}: timeline", job.timeline()),
                (f"{name}: cluster view", rec.cluster_view(at=mid)), (f"{name}: shuffle view", reading.shuffle_view()),
                (f"{name}: explain", job.explain())]
        rows, workers = progress(rec, at=mid)
        out.append((f"{name}: live view", stages_html(rows, job.name) + workers_html(workers)))
    seed = synthetic_recording(partitions=500, out_partitions=34, workers=5)
    job = seed.jobs[0]
    out += [("seed-sized: stage DAG", job.stage_dag()), ("seed-sized: task DAG", job.task_dag()),
            ("seed-sized: timeline", job.timeline()),
            ("seed-sized: cluster view", seed.cluster_view(at=job.start + 0.5 * (job.end - job.start))),
            ("a message", Message("Nothing to draw: 'empty' has no tasks (the job was empty or nothing was recorded)."))]
    return [(name, p if isinstance(p, str) else _rich(p)) for name, p in out]


def _rich(picture) -> str:
    bundle = picture._repr_mimebundle_() if hasattr(picture, "_repr_mimebundle_") else {"text/html": picture._repr_html_()}
    rich = [k for k in bundle if k != "text/plain"]
    assert rich == ["text/html"], rich  # one rich type
    return bundle["text/html"]


def page(width: int, items: list[tuple[str, str]]) -> str:
    sections = "".join(f'<section data-name="{html.escape(name)}" style="margin:0 0 24px"><h3>{html.escape(name)}</h3>'
                       f'<div class="col" style="width:{width}px;border:1px solid #ddd">{body}</div></section>'
                       for name, body in items)
    return f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:8px">{sections}</body></html>'


@pytest.mark.parametrize("width", WIDTHS)
def test_every_picture_renders_whole(browser, tmp_path, width):
    items = pictures()
    path = tmp_path / f"pictures-{width}.html"
    path.write_text(page(width, items), encoding="utf-8")
    context = browser.new_context(viewport={"width": width + 40, "height": 1000})
    try:
        p = context.new_page()
        errors: list[str] = []
        p.on("pageerror", lambda e: errors.append(str(e)))
        p.goto(path.as_uri())
        results = p.eval_on_selector_all("section", CHECK)
        ARTIFACTS.mkdir(exist_ok=True)
        p.screenshot(path=str(ARTIFACTS / f"pictures-{width}px.png"), full_page=True)
    finally:
        context.close()
    assert len(results) == len(items) and not errors
    assert {name: bad for name, bad in results if bad} == {}
