"""Serve a built site as GitHub Pages does, and run Lighthouse on every page.

* :class:`CompressingHandler` gzips text responses (HTML, CSS, JavaScript,
  JSON, SVG, XML, plain text) for a client that accepts gzip, as GitHub
  Pages does; images and fonts go as they are.
* :func:`pages` walks a built site for its pages (every ``.html`` file).
* :func:`lighthouse` runs ``lighthouse_audit.mjs`` (the npm ``lighthouse``
  pinned in ``package.json``) on a list of URLs with one Chromium and
  returns its summary.

``python -m tools.site_audit SITE_DIR`` serves a site compressed on
localhost and prints its address, for a look in a browser.
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

WORKER = Path(__file__).with_name("lighthouse_audit.mjs")
#: The content types GitHub Pages compresses (fonts and images are not).
COMPRESSED_TYPES = (
    "text/",
    "application/javascript",
    "application/json",
    "application/xml",
    "image/svg+xml",
)


class CompressingHandler(SimpleHTTPRequestHandler):
    """Static files as GitHub Pages serves them.

    Text is gzipped for a client that accepts gzip; a missing file gets the
    site's ``404.html`` with status 404; with ``prefix`` (``/repo/``) the site
    lives under that path, as a project site does, and nothing lives outside it.
    """

    extensions_map = {  # noqa: RUF012 (the base class's own attribute)
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "application/javascript",
        ".json": "application/json",
        ".svg": "image/svg+xml",
        ".webmanifest": "application/manifest+json",
        ".woff2": "font/woff2",
    }

    #: Connections kept open between requests, as Pages keeps them (it
    #: speaks HTTP/2; Python's server HTTP/1.1 at most). Under HTTP/1.0 each
    #: file opened a connection of its own, and Lighthouse's simulation of a
    #: phone's network charges every new connection a round trip.
    protocol_version = "HTTP/1.1"

    def __init__(self, *args: Any, prefix: str = "/", **kwargs: Any) -> None:
        self.prefix = prefix
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send_file(self, path: Path, status: HTTPStatus) -> io.BytesIO:
        body = path.read_bytes()
        ctype = self.guess_type(str(path))
        compress = ctype.startswith(COMPRESSED_TYPES) and "gzip" in self.headers.get(
            "Accept-Encoding", ""
        )
        if compress:
            body = gzip.compress(body, compresslevel=6, mtime=0)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if compress:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def send_head(self) -> io.BytesIO | None:  # type: ignore[override]
        url_path = self.path.split("?", 1)[0].split("#", 1)[0]
        site = Path(self.directory)
        missing = site / "404.html"
        if not url_path.startswith(self.prefix):
            return self._send_file(missing, HTTPStatus.NOT_FOUND)
        self.path = "/" + self.path[len(self.prefix) :]
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not url_path.endswith("/"):
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", url_path + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            path = path / "index.html"
        if not path.is_file():
            return self._send_file(missing, HTTPStatus.NOT_FOUND)
        return self._send_file(path, HTTPStatus.OK)


class _Server(ThreadingHTTPServer):
    """Quiet when a browser hangs up before a reply is sent."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve(site: Path, prefix: str = "/") -> Iterator[str]:
    """Serve ``site`` compressed on a free localhost port; yield its origin."""
    handler = functools.partial(CompressingHandler, directory=str(site), prefix=prefix)
    httpd = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def pages(site: Path) -> list[str]:
    """Every page of a built site as a URL path (``/``, ``/part3-convolution/``)."""
    paths = []
    for html_file in sorted(site.rglob("*.html")):
        relative = html_file.relative_to(site).as_posix()
        if relative == "index.html":
            paths.append("/")
        elif relative.endswith("/index.html"):
            paths.append("/" + relative.removesuffix("index.html"))
        else:
            paths.append("/" + relative)
    return paths


def lighthouse(
    urls: list[str],
    out: Path,
    chromium: str,
    flags: list[str],
    performance_runs: int = 3,
    diagnostics: list[str] | None = None,
    cwd: Path | None = None,
    decide_at: float | None = None,
) -> dict[str, Any]:
    """Lighthouse's summary of ``urls`` (reports written under ``out``).

    Each run gathers only what the four scores need, plus, in each page's
    first run, the unscored audits named in ``diagnostics`` (for its report).
    With ``decide_at`` (a budget for the median of ``performance_runs``), a
    page's runs stop once the median's side of the budget is decided.
    """
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("Lighthouse needs `node` on PATH (Node 20+)")
    out.mkdir(parents=True, exist_ok=True)
    request = out / "request.json"
    request.write_text(
        json.dumps(
            {
                "chromium": chromium,
                "flags": flags,
                "urls": urls,
                "out": str(out),
                "performance_runs": performance_runs,
                "decide_at": decide_at,
                "diagnostics": diagnostics or [],
            }
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [node, str(WORKER), str(request)],
        cwd=cwd or WORKER.parents[1],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"Lighthouse failed:\n{result.stdout}\n{result.stderr}")
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text("utf-8"))
    return summary


def main(argv: list[str]) -> None:
    site = Path(argv[0] if argv else "site")
    with serve(site) as origin:
        print(f"{origin}/ (gzip), Ctrl-C to stop", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1:])
