"""Debian's chromium, driven by Playwright, for the board's pages: a page loaded in it,
with the console errors and failed loads it caused."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import BrowserContext, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium(profile: Path) -> Iterator[BrowserContext]:
    """Debian's chromium, headless, with a fresh profile in `profile`."""
    assert CHROMIUM.is_file(), "no /usr/bin/chromium: apt-get install chromium (.ci/run does)"
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
        )
        context.set_default_timeout(20_000)
        try:
            yield context
        finally:
            context.close()


class Visit:
    """A page loaded in the browser (a file of the board, or an address), with the console
    errors and failed loads it caused."""

    def __init__(self, context: BrowserContext, path: Path | str, width: int = 1280) -> None:
        self.errors: list[str] = []
        self.page = context.new_page()
        self.page.set_viewport_size({"width": width, "height": 900})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))
        self.page.goto(path.as_uri() if isinstance(path, Path) else path)
        self.page.wait_for_load_state("load")

    def texts(self, selector: str) -> list[str]:
        return [t.strip() for t in self.page.locator(selector).all_inner_texts()]

    def broken_images(self) -> list[str]:
        return self.page.evaluate(
            "[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
        )

    def sideways(self) -> bool:
        """Whether the page scrolls sideways: wider than the window."""
        width, window = self.page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        return bool(width > window)

    def close(self) -> None:
        self.page.close()


def crawl(context: BrowserContext, site: Path, width: int = 1280) -> tuple[set[Path], list[str]]:
    """Every page of the board in `site` reached by links from its index, loaded in the
    browser at `width`, and what is wrong on them: console errors, failed loads, broken
    images, links to no file of the site, and (at a phone's width) a page that scrolls
    sideways."""
    seen: set[Path] = set()
    queue = [site / "index.html"]
    problems: list[str] = []
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        visit = Visit(context, path, width=width)
        where = path.relative_to(site)
        if visit.sideways():
            problems.append(f"{where} scrolls sideways at {width} px")
        problems += [f"{where}: {e}" for e in visit.errors]
        problems += [f"{where}: image {i}" for i in visit.broken_images()]
        for href in visit.page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)"):
            target = Path(urllib.request.url2pathname(href.split("#")[0].removeprefix("file://")))
            if not target.is_file() or not target.is_relative_to(site):
                problems.append(f"{where}: broken link {href}")
            elif target.suffix == ".html":
                queue.append(target)
        visit.close()
    return seen, problems
