"""``teachkit.doctor.checkup()``: the doctor's checks as a table for a notebook cell."""

from __future__ import annotations

from teachkit import doctor


def test_a_hidden_dot_shows_as_missing_with_its_fix():
    report = doctor.checkup(cluster=False, which=lambda name: None)
    assert not report.ok
    assert [c.name for c in report.missing] == ["dot (Graphviz)"]
    html = report._repr_html_()
    assert "✘ MISSING" in html and "apt-get install -y graphviz" in html
    assert report.summary().startswith("1 of ") and "MISSING" in report.summary()
    text = str(report)
    assert "MISSING  dot (Graphviz): not found on PATH" in text
    assert text.splitlines()[-1] == report.summary()


def test_every_check_of_the_command_is_a_row():
    checks = (doctor.Check("a", True, "fine"), doctor.Check("b <x>", False, "gone", "get b & c"))
    report = doctor.Checkup(checks)
    html = report._repr_html_()
    assert html.count("<tr>") == 2
    assert "b &lt;x&gt;" in html and "get b &amp; c" in html  # escaped
    assert str(report).splitlines()[:3] == ["ok       a: fine", "MISSING  b <x>: gone", "         fix: get b & c"]
    assert doctor.Checkup(checks[:1]).ok and "all 1 checks ok" in doctor.Checkup(checks[:1]).summary()
