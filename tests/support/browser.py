"""Debian's chromium, driven by Playwright, for the board's pages: a page loaded in it,
with the console errors and failed loads it caused."""

from __future__ import annotations

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
