"""The console on a server that requires SigV4: the key prompt, AWS's errors for a
wrong key, keys kept in the tab only, and the JavaScript signer where WebCrypto is absent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page

from tests.conftest import ServerProcess, rekognition_client
from tests.console.conftest import check_watch, open_console

pytestmark = pytest.mark.needs_server  # its own server, started with keys

KEY_ID, SECRET = "AKIDCONSOLETEST", "console-s3cr3t"
BAD_SIGNATURE = "InvalidSignatureException: The request signature we calculated does not match"
UNKNOWN_KEY = "UnrecognizedClientException: The security token included in the request is invalid."
# What a page is like where crypto.subtle does not exist (plain http on a LAN address).
WITHOUT_WEBCRYPTO = "Object.defineProperty(Crypto.prototype, 'subtle', { get() { return undefined; } });"


@pytest.fixture(scope="module")
def locked(models: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("console-locked") / "data", env={"OPENREK_ACCESS_KEYS": f"{KEY_ID}:{SECRET}"}
    )
    yield process
    process.stop()


def give_keys(page: Page, key_id: str, secret: str) -> None:
    page.wait_for_selector("dialog.keys[open]")
    page.fill("#access-key-id", key_id)
    page.fill("#secret-access-key", secret)
    page.press("#secret-access-key", "Enter")  # the keyboard submits the form


def create(page: Page, collection_id: str) -> None:
    page.fill("#new-collection", collection_id)
    page.click("#create-collection")


def test_static_files_are_the_only_unsigned_answers(locked: ServerProcess) -> None:
    home = requests.get(locked.url + "/", allow_redirects=False, timeout=10)
    assert (home.status_code, home.headers["location"]) == (302, "/console")
    config = requests.get(locked.url + "/console/config.json", timeout=10).json()
    assert config == {"region": "us-east-1", "keysRequired": True}
    for path in ("/console", "/console/static/rekognition.js", "/console/models.json"):
        assert requests.get(locked.url + path, timeout=10).status_code == 200, path
    for path in ("/console/nothing.js", "/console/static/nothing.js", "/consoles"):
        refused = requests.get(locked.url + path, timeout=10)
        assert refused.status_code == 400, path
        assert refused.json()["__type"] == "MissingAuthenticationTokenException"


def test_keys_are_asked_for_and_a_wrong_one_shows_the_aws_error(
    browser: Browser, locked: ServerProcess
) -> None:
    page, watch = open_console(browser, locked.url)
    watch.expect_api_errors()
    page.goto(locked.url + "/console#/collections")

    give_keys(page, KEY_ID, "not-the-secret")  # ListCollections asks on the page's first call
    page.wait_for_selector("#collections-status.error")
    assert page.inner_text("#collections-status").startswith(BAD_SIGNATURE)
    assert page.evaluate("sessionStorage.length") == 0  # a wrong key is forgotten...

    create(page, "made-in-console")
    give_keys(page, "AKIDNOBODY", SECRET)  # ...so the next call asks again
    page.wait_for_selector(f"#collections-status.error:has-text('{UNKNOWN_KEY}')")

    create(page, "made-in-console")
    give_keys(page, KEY_ID, SECRET)
    page.wait_for_selector("#collections-status.done:has-text('made-in-console created')")
    signed = rekognition_client(locked.url, key_id=KEY_ID, secret=SECRET)
    assert "made-in-console" in signed.list_collections()["CollectionIds"]
    assert page.inner_text("#keys-state").startswith(f"Signing as {KEY_ID}")
    # The keys live in this tab's sessionStorage and nowhere else.
    assert page.evaluate("localStorage.length") == 0
    assert page.context.cookies() == []
    assert KEY_ID in page.evaluate("JSON.stringify(sessionStorage)")
    assert all("Authorization" not in body for _, body in watch.api_calls)

    other_tab = page.context.new_page()
    other_tab.on("dialog", lambda dialog: dialog.accept())
    other_tab.goto(locked.url + "/console#/collections")
    other_tab.wait_for_selector("dialog.keys[open]")  # a new tab holds no keys
    other_tab.click("dialog.keys button:has-text('Cancel')")
    other_tab.wait_for_selector("#collections-status.error")
    assert other_tab.inner_text("#collections-status").startswith(
        "MissingAuthenticationTokenException: Request is missing Authentication Token"
    )
    page.click("#keys-state button:has-text('Forget keys')")
    assert page.evaluate("sessionStorage.length") == 0
    check_watch(page, watch)


def test_signing_without_webcrypto(browser: Browser, locked: ServerProcess) -> None:
    signed = rekognition_client(locked.url, key_id=KEY_ID, secret=SECRET)
    signed.create_collection(CollectionId="signed-in-javascript")
    page, watch = open_console(browser, locked.url)
    page.add_init_script(WITHOUT_WEBCRYPTO)
    page.goto(locked.url + "/console#/collections")
    give_keys(page, KEY_ID, SECRET)
    page.wait_for_selector("#collection-list li[data-collection-id='signed-in-javascript']")
    assert page.evaluate("import('/console/static/sha256.js').then((m) => m.usesWebCrypto())") is False
    check_watch(page, watch)
