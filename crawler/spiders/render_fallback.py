"""The ACE spider's rendering fallback: what a page without its values means, per render mode.

Kept out of spiders/ace.py so the spider reads as before: it asks `render_again`
whether a template-looking page goes back to the browser, and `template_problem` /
`template_is_evidence` what a template that stays one means.

- `auto`: an organization page without its course list, or an exhibit showing its
  labels without values, is fetched again in headless Chromium; only what still lacks
  its values once rendered is judged (a removed exhibit, an organization not found).
- `always`: every organization page and exhibit is rendered from the start.
- `never`: nothing is rendered. A listed exhibit that arrives as the template, or an
  organization page that names an organization without its course list, is evidence that
  the site fills its values by script; from then on no template confirms a loss, and the
  run says so in one line ("exhibit values filled by script: set [crawl] render").
"""

from __future__ import annotations

import scrapy
from scrapy import signals

from crawler.notes import add_note, set_note
from crawler.parsing.ace import ExhibitParseError
from crawler.rendering import (
    AGENT,
    chromium_path,
    playwright_settings,
    remember_robots,
    rendered,
    was_rendered,
)

SCRIPT_FILLED = "exhibit values filled by script: set [crawl] render"
# The Chromium update_settings found ("" = none, or not looked for under `never`); setup_render reads it back.
FOUND_CHROMIUM = "ACEWATCH_CHROMIUM_FOUND"


class RenderFallback:
    """Mixin for the ACE spider: render modes, re-fetching rendered, and what templates mean."""

    @classmethod
    def update_settings(cls, settings) -> None:
        """Only this spider's crawler gets the browser handler, and only when it may render.

        Chromium is looked up here, once per crawler; the path found is kept in the crawler's
        settings so setup_render decides "no browser" from the same lookup the handler came from.
        """
        super().update_settings(settings)
        may_render = settings.get("ACEWATCH_RENDER", "never") != "never"
        executable = chromium_path(settings.get("ACEWATCH_CHROMIUM") or "") if may_render else None
        settings.set(FOUND_CHROMIUM, executable or "", priority="spider")
        if executable:
            settings.setdict(
                playwright_settings(
                    executable,
                    settings.getfloat("ACEWATCH_RENDER_TIMEOUT", 60.0),
                    settings.getint("ACEWATCH_RENDER_CONCURRENCY", 2),
                ),
                priority="spider",
            )

    def setup_render(self, crawler) -> None:
        settings = crawler.settings
        self.render = settings.get("ACEWATCH_RENDER", "never")
        self.render_timeout = settings.getfloat("ACEWATCH_RENDER_TIMEOUT", 60.0)
        self.script_evidence = {
            "organization pages without their course list": 0,
            "exhibits with labels but no values": 0,
        }
        self.rendered_pages = {"organization": 0, "exhibit": 0}
        AGENT[0] = settings.get("USER_AGENT") or "*"
        crawler.signals.connect(remember_robots, signal=signals.robots_parsed)
        if self.render != "never" and not settings.get(FOUND_CHROMIUM):
            wanted, self.render = self.render, "never"
            # Stats exist only once the crawl starts (Scrapy 2.13+), so the note waits for spider_opened.
            crawler.signals.connect(
                lambda spider: self.note_no_browser(wanted), signal=signals.spider_opened, weak=False
            )

    def note_no_browser(self, wanted: str) -> None:
        # In auto this needs acting on only once a page lacks its values (the script_filled note says so).
        add_note(
            self.crawler.stats,
            "no_browser",
            f'[crawl] render = "{wanted}" but no Chromium was found '
            "(apt-get install chromium, or set [crawl] chromium): nothing is rendered",
            attention=wanted == "always",
        )

    def page_request(self, url: str, kind: str, **kwargs) -> scrapy.Request:
        """A request for an organization page or an exhibit (`kind`); rendered from the start in `always`."""
        request = scrapy.Request(url, **kwargs)
        return rendered(request, self.render_timeout, kind) if self.render == "always" else request

    def render_again(self, response, kind: str) -> scrapy.Request | None:
        """The rendered request for a page that came without its values, when it may still be rendered."""
        if self.render == "never" or was_rendered(response):
            return None
        self.crawler.stats.inc_value("acewatch/render_fallbacks")
        return rendered(response.request, self.render_timeout, kind)

    def count_rendered(self, response, kind: str) -> None:
        """Count a page that came through the browser; the run's `rendered` note carries the totals."""
        if not was_rendered(response):
            return
        self.rendered_pages[kind] += 1
        total = sum(self.rendered_pages.values())
        self.crawler.stats.set_value("acewatch/rendered_pages", total)
        set_note(
            self.crawler.stats,
            "rendered",
            f"{total} page{'s' * (total != 1)} rendered in headless Chromium "
            f"({self.rendered_pages['organization']} organization pages, {self.rendered_pages['exhibit']} exhibits)",
            attention=False,
            count=total,
        )

    def template_is_evidence(self) -> bool:
        """Whether a template may be script-filled: never rendered, and the site showed shells this crawl."""
        return self.render == "never" and any(self.script_evidence.values())

    def organization_shell(self, response, name: str) -> bool:
        """An organization page that names an organization but lists nothing, in `never`: a shell."""
        if self.render != "never" or not name:
            return False
        self.script_filled("organization pages without their course list")
        return True

    def template_problem(self, response) -> ExhibitParseError:
        """Why an exhibit that stays the template is `unknown` rather than gone."""
        if was_rendered(response):
            return ExhibitParseError("exhibit template without values, also when rendered")
        self.script_filled("exhibits with labels but no values")
        return ExhibitParseError(SCRIPT_FILLED)

    def script_filled(self, what: str) -> None:
        self.script_evidence[what] += 1
        seen = ", ".join(f"{count} {label}" for label, count in self.script_evidence.items() if count)
        set_note(self.crawler.stats, "script_filled", f"{SCRIPT_FILLED} ({seen})")
