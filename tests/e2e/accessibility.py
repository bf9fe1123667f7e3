"""axe-core (npm, served by the app from browser-libs) run inside the app's own frame."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Frame

# WCAG 2.1 A and AA rules; a violation of impact serious or critical fails a test.
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
RUN_AXE_JS = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
  }));
}"""


def axe_violations(frame: Frame, app_origin: str) -> list[dict[str, Any]]:
    """Every WCAG 2.1 AA violation axe finds in `frame` (the checker loaded from the app)."""
    frame.add_script_tag(url=f"{app_origin}/static/vendor/axe.min.js")
    found: list[dict[str, Any]] = frame.evaluate(RUN_AXE_JS, WCAG_21_AA)
    return found


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The serious and critical ones."""
    return [v for v in violations if v["impact"] in BLOCKING]
