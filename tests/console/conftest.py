"""A real browser for the console's tests: Debian's Chromium driven by Playwright.

Playwright's own browser download cannot be fetched here, so it launches the system
Chromium (`apt-get install chromium`; scripts/test installs it when missing). Tests
that use the `browser` fixture are marked needs_browser (tests/conftest.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Response,
    ViewportSize,
    sync_playwright,
)

from tests.conftest import answers_with

CHROMIUM = Path("/usr/bin/chromium")
# Long enough for a model's first run on a busy two-core machine.
ACTION_TIMEOUT_MS = 60_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `apt-get install chromium` (scripts/test does it)", pytrace=False
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@dataclass
class PageWatch:
    """What a page did: every request it made, and every console error."""

    origin: str
    requests: list[str] = field(default_factory=list)
    # (operation, request body) of each call to the API, in order.
    api_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Console lines a test expects, e.g. the browser's note on a 400 the test provoked.
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)
        target = request.headers.get("x-amz-target", "")
        if request.method == "POST" and target.startswith("RekognitionService."):
            body = json.loads(request.post_data or "{}")
            self.api_calls.append((target.removeprefix("RekognitionService."), body))

    def on_response(self, response: Response) -> None:
        """The page's API calls get a result or an error their operation declares."""
        target = response.request.headers.get("x-amz-target", "")
        if not target.startswith("RekognitionService.") or response.status < 400:
            return
        operation = target.removeprefix("RekognitionService.")
        code = response.headers.get("x-amzn-errortype", "")
        if response.status >= 500 or not answers_with(operation, code):
            self.errors.append(f"{operation} answered {response.status} {code}, which it does not declare")

    def calls(self, operation: str) -> list[dict[str, Any]]:
        return [body for name, body in self.api_calls if name == operation]

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning") and not any(p.search(message.text) for p in self.expected):
            self.errors.append(f"{message.type}: {message.text}")

    def expect_api_errors(self) -> None:
        """The test provokes AWS errors: Chromium notes each 4xx answer in the console."""
        self.expected.append(
            re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")
        )

    def foreign_requests(self) -> list[str]:
        ours = urlsplit(self.origin).netloc
        return [
            url
            for url in self.requests
            if not (urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc == ours)
            # blob: URLs are the page's own photos, made in the page from chosen files.
            and not url.startswith(f"blob:{self.origin}/")
            and not url.startswith("data:")
        ]


def open_console(
    browser: Browser,
    origin: str,
    *,
    viewport: ViewportSize | None = None,
    permissions: Sequence[str] | None = None,
) -> tuple[Page, PageWatch]:
    # None is Playwright's own default for both
    context = browser.new_context(viewport=viewport, permissions=permissions)
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    watch = PageWatch(origin)
    page.on("request", watch.on_request)
    page.on("response", watch.on_response)
    page.on("console", watch.on_console)
    page.on("pageerror", lambda error: watch.errors.append(f"pageerror: {error}"))
    page.on("dialog", lambda dialog: dialog.accept())  # confirm() before deleting
    return page, watch


def check_watch(page: Page, watch: PageWatch) -> None:
    """No request left openrek, and nothing went wrong in the page."""
    assert watch.requests, "the page made no requests at all"
    assert watch.foreign_requests() == []
    assert watch.errors == []
    page.context.close()
