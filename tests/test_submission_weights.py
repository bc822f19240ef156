"""Downloading weights files: kept only when size, sha256 and sha1 match; clear errors otherwise."""
from __future__ import annotations

import hashlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from realnet_plugins.errors import CheckpointError, MissingFileError, UsageError
from realnet_plugins.submission.weights import (
    FileDigests,
    check_weights_url,
    fetch_verified,
    file_digests,
    weights_file_url,
)

GOOD = b"checkpoint bytes " * 1000


def _digests(data: bytes) -> FileDigests:
    return FileDigests(len(data), hashlib.sha256(data).hexdigest(), hashlib.sha1(data).hexdigest())


@pytest.fixture
def server():
    """Serves ``files`` (path → bytes; 404 otherwise) on 127.0.0.1; stops after the test or 60 s."""
    files: dict[str, bytes] = {}
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            requests.append(self.path)
            if self.path not in files:
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(files[self.path])))
            self.end_headers()
            self.wfile.write(files[self.path])

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stopper = threading.Timer(60, httpd.shutdown)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    stopper.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", files, requests
    finally:
        stopper.cancel()
        httpd.shutdown()
        httpd.server_close()


def test_a_matching_file_is_kept_and_then_served_from_the_cache(server, tmp_path):
    url, files, requests = server
    files["/w/a.pt"] = GOOD
    target = tmp_path / "cache" / "a.pt"
    assert fetch_verified(f"{url}/w/a.pt", target, _digests(GOOD)) == target
    assert target.read_bytes() == GOOD and file_digests(target) == _digests(GOOD)
    fetch_verified(f"{url}/w/a.pt", target, _digests(GOOD))
    assert requests == ["/w/a.pt"] and [p.name for p in target.parent.iterdir()] == ["a.pt"]


def test_a_damaged_cached_copy_is_replaced(server, tmp_path):
    url, files, requests = server
    files["/a.pt"] = GOOD
    target = tmp_path / "a.pt"
    target.write_bytes(GOOD[:-1] + b"X")
    fetch_verified(f"{url}/a.pt", target, _digests(GOOD))
    assert target.read_bytes() == GOOD and requests == ["/a.pt"]


@pytest.mark.parametrize("served, found", [
    (GOOD[:-1] + b"X", "sha256 " + hashlib.sha256(GOOD[:-1] + b"X").hexdigest()),
    (GOOD[:100], "found 100 bytes"),
    (GOOD + b"more", f"more than {len(GOOD)} bytes"),
], ids=["one-byte-changed", "truncated", "longer"])
def test_a_different_file_is_refused_and_nothing_is_kept(server, tmp_path, served, found):
    url, files, _ = server
    files["/a.pt"] = served
    with pytest.raises(CheckpointError) as refused:
        fetch_verified(f"{url}/a.pt", tmp_path / "a.pt", _digests(GOOD))
    message = str(refused.value)
    assert f"{url}/a.pt was refused" in message and "nothing was kept" in message and found in message
    assert _digests(GOOD).sha256 in message and _digests(GOOD).sha1 in message
    assert list(tmp_path.iterdir()) == []


def test_unreachable_files_are_missing_file_errors(server, tmp_path):
    url, _, _ = server
    with pytest.raises(MissingFileError, match="HTTP 404"):
        fetch_verified(f"{url}/none.pt", tmp_path / "a.pt", _digests(GOOD))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with pytest.raises(MissingFileError, match="could not download"):
        fetch_verified(f"http://127.0.0.1:{closed}/a.pt", tmp_path / "a.pt", _digests(GOOD), timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_weights_urls_are_http_folders():
    assert check_weights_url("https://example.org/w/") == "https://example.org/w"
    assert weights_file_url("http://h:8000/a/", "x y.pt") == "http://h:8000/a/x%20y.pt"
    for bad in ("ftp://example.org/w", "example.org/w", "https://", "https://h/w?x=1", "file:///tmp/w"):
        with pytest.raises(UsageError, match="http"):
            check_weights_url(bad)
    with pytest.raises(UsageError):
        fetch_verified("file:///etc/passwd", "x.pt", _digests(GOOD))
