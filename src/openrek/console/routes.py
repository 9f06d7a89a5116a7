"""The console's routes: its static files, and two data-free JSON documents.

Nothing here but the upload is signed, so nothing else here may hold or reveal data:
- `/console` and `/console/<page>`: the HTML shells (`static/<page>.html`);
- `/console/static/<file>`: the package's own JS, CSS and images;
- `/console/config.json`: the region to sign for and whether keys are required;
- `/console/models.json`: the model manifest shipped in the package (names,
  licences, carrier packages), the same for every install of this version;
- `PUT /console/uploads/<bucket>/<key>`: a video into the local bucket folders,
  SigV4-signed like the API (uploads.py).

A name that is not one of these files is handed to the app's 404 handler, which
answers as the API does for any unknown path (after the signature check).
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from openrek import __version__
from openrek.config import Settings
from openrek.console.uploads import upload_routes
from openrek.models.store import load_manifest

CONSOLE_PATH = "/console"

# The pages load only what openrek serves (the browser enforces it too); the API is
# same-origin, photos are shown from blob: URLs, the camera from a MediaStream.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'none'",
    ]
)
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    media_type: str
    etag: str


def _walk(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for entry in folder.iterdir():
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir():
            yield from _walk(entry, f"{prefix}{entry.name}/")
        else:
            yield f"{prefix}{entry.name}", entry


def _static_file(name: str, body: bytes) -> StaticFile:
    suffix = name[name.rfind(".") :] if "." in name else ""
    media_type = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return StaticFile(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def load_static_files() -> dict[str, StaticFile]:
    """Every file under static/, read once: a request names one of these or nothing,
    so no path from a client ever reaches the file system."""
    folder = resources.files("openrek.console").joinpath("static")
    return {name: _static_file(name, entry.read_bytes()) for name, entry in _walk(folder)}


def models_document() -> dict[str, object]:
    """The manifest as the Models page shows it: no install state, no user data."""
    return {
        "version": __version__,
        "models": [
            {
                "name": entry.name,
                "model": entry.model,
                "licence": entry.licence,
                "commercialUse": entry.commercial_use,
                "optional": entry.optional,
                "file": entry.file,
                "carriers": sorted(
                    {
                        f"{source.registry} {source.package}=={source.version}"
                        for source in entry.sources.values()
                    }
                ),
                "sha256": entry.sha256,
            }
            for entry in load_manifest().values()
        ],
    }


def _answer(request: Request, found: StaticFile) -> Response:
    headers = {
        "ETag": found.etag,
        # Revalidate each time: an upgraded server never runs yesterday's scripts.
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if found.media_type.startswith("text/html"):
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["X-Frame-Options"] = "DENY"
    if request.headers.get("if-none-match") == found.etag:
        return Response(status_code=304, headers=headers)
    body = b"" if request.method == "HEAD" else found.body
    response = Response(body, media_type=found.media_type, headers=headers)
    if request.method == "HEAD":
        response.headers["content-length"] = str(len(found.body))
    return response


def console_routes(settings: Settings) -> list[BaseRoute]:
    files = load_static_files()
    files["config.json"] = _static_file(
        "config.json",
        json.dumps({"region": settings.region, "keysRequired": bool(settings.access_keys)}).encode(),
    )
    files["models.json"] = _static_file("models.json", json.dumps(models_document()).encode())

    def lookup(name: str) -> StaticFile:
        found = files.get(name)
        if found is None:
            # The app's 404 handler: the signature check, then the API's own answer.
            raise HTTPException(status_code=404)
        return found

    async def page(request: Request) -> Response:
        name = request.path_params.get("page", "index")
        return _answer(request, lookup(f"{name}.html"))

    async def static(request: Request) -> Response:
        return _answer(request, lookup(str(request.path_params["name"])))

    async def document(request: Request) -> Response:
        return _answer(request, lookup(request.url.path.removeprefix(f"{CONSOLE_PATH}/")))

    return [
        *upload_routes(settings),
        Route(CONSOLE_PATH, page, methods=["GET", "HEAD"]),
        Route(f"{CONSOLE_PATH}/config.json", document, methods=["GET", "HEAD"]),
        Route(f"{CONSOLE_PATH}/models.json", document, methods=["GET", "HEAD"]),
        Route(f"{CONSOLE_PATH}/static/{{name:path}}", static, methods=["GET", "HEAD"]),
        Route(f"{CONSOLE_PATH}/{{page:str}}", page, methods=["GET", "HEAD"]),
    ]


__all__ = ["CONSOLE_PATH", "console_routes", "load_static_files", "models_document"]
