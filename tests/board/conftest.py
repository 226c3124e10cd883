"""The board's browser: one chromium per test module that asks for it (the tests sharing it
run in one worker process, see tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext

from tests.support.browser import chromium


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Debian's chromium, headless, with a fresh profile; closed after the module."""
    with chromium(tmp_path_factory.mktemp("profile")) as context:
        yield context
