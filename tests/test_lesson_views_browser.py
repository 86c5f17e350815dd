"""The pictures and tables of lessons 5-9 render whole at 400, 800 and 1400 px wide, in Chromium.

Same check as ``test_widths_browser.py`` (whose page and checker this reuses):
an SVG scales down to its column and every mark stays inside it; HTML wider
than the column sits in a box that scrolls.  The tables wrap their text, so
they must fit without scrolling.
"""

from __future__ import annotations

import pytest
from test_widths_browser import ARTIFACTS, CHECK, _rich, page

import teachkit
from teachkit.views.balance_chart import tasks_chart
from teachkit.views.fact_table import FactTable, seed_table

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]


def items() -> list[tuple[str, str]]:
    straggler = teachkit.Recording.load(teachkit.example_path("straggler")).jobs[-1]
    seed = teachkit.Recording.load(teachkit.example_path("seed")).jobs[-1]
    code = 'df.groupby("category").count(split_out=4, split_every=24, shuffle_method="tasks").optimize().compute()'
    side = FactTable(["job", "PySpark", "Dask", "Spark", "Dask", "verdict"],
                     [["seed-plan", 'df24.groupBy("category").count().collect()', code, "[24, 4]", "[24, 4]", "same"]],
                     title="side by side", code=(1, 2))
    return [(name, _rich(p)) for name, p in [
        ("tasks per worker, stolen", tasks_chart(straggler, 0)), ("tasks per worker, whole job", tasks_chart(seed)),
        ("seed table", seed_table(seed, {"books": 1_000_000})), ("side by side", side)]]


@pytest.mark.parametrize("width", (400, 800, 1400))
def test_lesson_pictures_render_whole(browser, tmp_path, width):
    shown = items()
    path = tmp_path / f"lesson-pictures-{width}.html"
    path.write_text(page(width, shown), encoding="utf-8")
    context = browser.new_context(viewport={"width": width + 40, "height": 1000})
    try:
        p = context.new_page()
        p.goto(path.as_uri())
        results = p.eval_on_selector_all("section", CHECK)
        widths = p.eval_on_selector_all(".col table", "ts => ts.map(t => [t.scrollWidth, t.parentElement.clientWidth])")
        ARTIFACTS.mkdir(exist_ok=True)
        p.screenshot(path=str(ARTIFACTS / f"lesson-pictures-{width}px.png"), full_page=True)
    finally:
        context.close()
    assert len(results) == len(shown)
    assert {name: bad for name, bad in results if bad} == {}
    assert all(inner <= outer + 1 for inner, outer in widths), widths  # tables wrap, they do not scroll
