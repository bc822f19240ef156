"""``realnet fetch`` against local HTTP servers on 127.0.0.1 that play a mirror, OSF's API and figshare's API.

The servers serve fixture files in the real formats under the real relative paths, support HTTP Range,
can cut a response short or send corrupted bytes, and stop by themselves (a request budget and a
deadline) as well as in the fixture's finalizer. Nothing leaves the machine.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from realnet_plugins.cli import main
from realnet_plugins.datasets.shen2019.fixtures import write_shen2019_release
from realnet_plugins.datasets.things_dimensions.reader import load_spose_embedding
from realnet_plugins.datasets.things_eeg2.fixtures import write_spose_embedding, write_things_eeg2_release
from realnet_plugins.datasets.things_eeg2.reader import ThingsEEG2Release
from realnet_plugins.fetch.brainscore_files import published_realnet_weights

SITE = Path(sys.executable).parent


# ------------------------------------------------------------------------------------------- the server
class LocalServer:
    """A threaded HTTP server on 127.0.0.1 that stops after ``max_requests`` requests or ``max_seconds``.

    ``files`` maps URL paths to bytes or to a file on disk; ``api`` maps URL paths (without query) to a
    function of the query returning a JSON-serialisable answer. ``cut_once[path] = n`` sends only the
    first n bytes of the next full response of ``path`` (announcing the full length) and closes the
    connection; ``no_range`` lists paths served whole even when a Range is asked for. ``log`` records
    every request as (path, Range header or None).
    """

    def __init__(self, max_requests: int = 400, max_seconds: float = 300.0) -> None:
        self.files: dict[str, bytes | Path] = {}
        self.api: dict[str, Callable[[dict[str, list[str]]], Any]] = {}
        self.cut_once: dict[str, int] = {}
        self.no_range: set[str] = set()
        self.log: list[tuple[str, str | None]] = []
        self.max_requests = max_requests
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._deadline = threading.Timer(max_seconds, self.stop)
        self._deadline.daemon = True
        self._stopped = False
        self._thread.start()
        self._deadline.start()

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._deadline.cancel()
        self.httpd.shutdown()
        self.httpd.server_close()

    def requests_for(self, path: str) -> list[str | None]:
        return [rng for p, rng in self.log if p == path]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        rng = handler.headers.get("Range")
        with self._lock:
            self.log.append((parts.path, rng))
            over_budget = len(self.log) > self.max_requests
        if over_budget:
            handler.send_error(503, "request budget spent")
            threading.Thread(target=self.stop, daemon=True).start()
            return
        if parts.path in self.api:
            body = json.dumps(self.api[parts.path](parse_qs(parts.query))).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return
        content = self.files.get(parts.path)
        if content is None:
            handler.send_error(404)
            return
        data = content.read_bytes() if isinstance(content, Path) else content
        start = 0
        if rng and parts.path not in self.no_range:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                handler.send_response(416)
                handler.send_header("Content-Range", f"bytes */{len(data)}")
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            handler.send_response(206)
            handler.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            handler.send_response(200)
        handler.send_header("Content-Length", str(len(data) - start))
        handler.send_header("Accept-Ranges", "bytes")
        handler.end_headers()
        cut = self.cut_once.pop(parts.path, None) if not rng else None
        handler.wfile.write(data[start:] if cut is None else data[:cut])
        handler.wfile.flush()
        handler.close_connection = True


@pytest.fixture
def server():
    srv = LocalServer()
    yield srv
    srv.stop()


# ------------------------------------------------------------------------------ OSF's and figshare's API
def serve_osf_node(srv: LocalServer, node: str, files: dict[str, bytes], *, hashes: bool = True,
                   per_page: int = 2) -> None:
    """Answer ``/v2/nodes/<node>/files/osfstorage/...`` in the OSF API's shape; files under /download/<node>/."""
    folders: dict[str, list[dict]] = {"": []}
    for path in sorted(files):
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder not in folders:
                folders[folder] = []
                parent = "/".join(parts[:depth - 1])
                folder_id = hashlib.md5(f"{node}/{folder}".encode()).hexdigest()[:24]
                folders[parent].append({
                    "id": folder_id, "type": "files",
                    "attributes": {"name": parts[depth - 1], "kind": "folder", "path": f"/{folder_id}/",
                                   "materialized_path": f"/{folder}/", "provider": "osfstorage", "size": None,
                                   "extra": {}},
                    "relationships": {"files": {"links": {"related": {
                        "href": f"{srv.url}/v2/nodes/{node}/files/osfstorage/{folder_id}/", "meta": {}}}}},
                    "links": {"move": "", "upload": "", "delete": "", "new_folder": ""},
                })
        file_id = hashlib.md5(f"{node}/{path}".encode()).hexdigest()[:24]
        body = files[path]
        srv.files[f"/download/{node}/{path}"] = body
        extra = {"hashes": {"md5": hashlib.md5(body).hexdigest(), "sha256": hashlib.sha256(body).hexdigest()}
                 if hashes else {}, "downloads": 0}
        folders["/".join(parts[:-1])].append({
            "id": file_id, "type": "files",
            "attributes": {"name": parts[-1], "kind": "file", "path": f"/{file_id}", "size": len(body),
                           "materialized_path": f"/{path}", "provider": "osfstorage", "extra": extra,
                           "date_modified": "2022-01-01T00:00:00.000000+00:00"},
            "links": {"info": "", "move": "", "upload": "", "delete": "",
                      "download": f"{srv.url}/download/{node}/{path}"},
        })
    for folder, entries in folders.items():
        folder_id = "" if not folder else hashlib.md5(f"{node}/{folder}".encode()).hexdigest()[:24] + "/"
        base = f"/v2/nodes/{node}/files/osfstorage/{folder_id}"

        def page(query, entries=entries, base=base):
            number = int(query.get("page", ["1"])[0])
            chunk = entries[(number - 1) * per_page:number * per_page]
            more = number * per_page < len(entries)
            return {"data": chunk, "links": {"first": None, "last": None, "prev": None,
                                             "next": f"{srv.url}{base}?page={number + 1}" if more else None,
                                             "meta": {"total": len(entries), "per_page": per_page}},
                    "meta": {"version": "2.0"}}

        srv.api[base] = page


def serve_figshare_article(srv: LocalServer, article: int, files: dict[str, bytes]) -> None:
    """Answer ``/v2/articles/<id>/files?page=N&page_size=M`` like figshare's API (a JSON array per page)."""
    records = []
    for number, (name, body) in enumerate(sorted(files.items()), start=14830000):
        srv.files[f"/ndownloader/files/{number}"] = body
        records.append({"id": number, "name": name, "size": len(body), "is_link_only": False,
                        "download_url": f"{srv.url}/ndownloader/files/{number}", "supplied_md5": "",
                        "computed_md5": hashlib.md5(body).hexdigest(), "mimetype": "application/x-hdf"})

    def page(query):
        number, size = int(query["page"][0]), int(query["page_size"][0])
        return records[(number - 1) * size:number * size]

    srv.api[f"/v2/articles/{article}/files"] = page


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, body in members.items():
            bundle.writestr(name, body)
    return buffer.getvalue()


def cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(["fetch", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def user_error_code(capsys):
    """The exit code the CLI gives a user's mistake (a RealnetError), measured on another verb."""
    code = main(["info", "realnet_s05"])
    capsys.readouterr()
    assert code != 0
    return code


def assert_one_line_error(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("realnet fetch: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# ------------------------------------------------------------------------------------------------ tests
def test_weight_locations_come_from_the_installed_brainscore_plugins_and_torchvision():
    from torchvision.models import ResNet18_Weights

    from realnet_plugins.fetch import plan
    from realnet_plugins.fetch.brainscore_files import brainscore_models_dir

    folder = brainscore_models_dir() / "ReAlnet"
    recorded = json.loads((folder / "weights.json").read_text())
    assert 'relative_path=f"ReAlnet/{identifier}_best_model_params.pt"' in (folder / "model.py").read_text()
    items, _ = plan(["realnet-weights", "cornet-s", "resnet18"])
    realnets = [i for i in items if i.source == "realnet-weights"]
    assert [i.identifier for i in realnets] == [f"realnet_s{s:02d}" for s in range(1, 11)]
    for item in realnets:
        brainscore_id = f"ReAlnet{item.identifier[-2:]}"
        assert item.published == f"sha1:{recorded['sha1s'][brainscore_id]}"
        assert item.url == ("https://brainscore-storage.s3.amazonaws.com/brainscore-vision/models/ReAlnet/"
                            f"{brainscore_id}_best_model_params.pt?versionId={recorded['version_ids'][brainscore_id]}")
    cornet = next(i for i in items if i.source == "cornet-s")
    cornet_py = (brainscore_models_dir() / "cornet_s" / "model.py").read_text()
    assert cornet.published.removeprefix("sha1:") in cornet_py and cornet.path in cornet_py
    assert cornet.url.endswith(f"/brainscore-vision/models/{cornet.path}?versionId=null")
    resnet = next(i for i in items if i.source == "resnet18")
    assert resnet.url == ResNet18_Weights.IMAGENET1K_V1.url
    assert resnet.published is None and resnet.sha256_prefix == resnet.path.split("-")[1].split(".")[0]


def test_published_realnet_file_is_refused_on_its_sha1_then_accepted_with_its_exact_sha256_and_imported(
        server, tmp_path, capsys, user_error_code):
    from realnet_plugins.checkpoints import checkpoint_path, load_model_checkpoint
    from realnet_plugins.fixtures.weights import random_realnet, write_published_realnet_file

    model = random_realnet("cornet_s", image_size=32, seed=3)
    release_file = write_published_realnet_file(tmp_path / "ReAlnet01_best_model_params.pt", model)
    sha256 = hashlib.sha256(release_file.read_bytes()).hexdigest()
    path = published_realnet_weights()[1].relative_path
    server.files[f"/mirror/realnet-weights/{path}"] = release_file
    dest = tmp_path / "downloads"
    args = ["realnet-weights", "--subjects", "1", "--mirror", f"{server.url}/mirror", "--dest", str(dest), "--quiet"]

    code, out, err = cli(args, capsys)
    assert code == user_error_code
    assert_one_line_error(err, "sha1", "weights.json", f"--accept-sha256 {sha256}", "nothing was kept")
    assert files_under(dest) == [] and not checkpoint_path("realnet_s01").exists()

    served = len(server.log)
    code, _, err = cli(args + ["--accept-sha256", "0" * 64], capsys)
    assert code == user_error_code
    assert_one_line_error(err, "not the sha256 of a refused file", sha256)
    code, _, err = cli(args + ["--accept-sha256", "xyz"], capsys)
    assert code == user_error_code
    assert_one_line_error(err, "64 hex digits")
    assert len(server.log) == served  # mistakes are caught before anything is downloaded

    code, out, err = cli(args + ["--accept-sha256", sha256.upper()], capsys)
    assert code == 0, err
    assert f"sha256 {sha256}" in out and "accepted" in out and "imported as realnet_s01" in out
    landed = dest / "realnet-weights" / path
    assert landed.read_bytes() == release_file.read_bytes()
    loaded = load_model_checkpoint("realnet_s01")
    assert loaded.meta.source == f"imported:published-realnet:{sha256}" and loaded.meta.subject == 1
    reference = model.state_dict()
    assert all(np.array_equal(v.numpy(), reference[k].numpy()) for k, v in loaded.model.state_dict().items())

    served = len(server.log)
    code, out, _ = cli(args, capsys)  # the acceptance is remembered for exactly this content
    assert code == 0 and "present" in out and "already imported as realnet_s01" in out
    assert len(server.log) == served


@pytest.fixture(scope="module")
def things_eeg2_release(tmp_path_factory):
    root = write_things_eeg2_release(tmp_path_factory.mktemp("things"), n_subjects=2, n_train_concepts=2,
                                     images_per_concept=2, n_test_images=2, n_train_reps=2, n_test_reps=2,
                                     image_size=32)
    return root


def _osf_things_eeg2(srv: LocalServer, root: Path) -> dict[str, bytes]:
    preprocessed = {}
    for subject in (1, 2):
        folder = root / "preprocessed_data" / f"sub-{subject:02d}"
        preprocessed[f"sub-{subject:02d}.zip"] = zipped({f"sub-{subject:02d}/{p.name}": p.read_bytes()
                                                         for p in sorted(folder.glob("*.npy"))})
    serve_osf_node(srv, "anp5v", preprocessed)
    images = {"image_metadata.npy": (root / "image_set" / "image_metadata.npy").read_bytes()}
    for split in ("training_images", "test_images"):
        images[f"{split}.zip"] = zipped({str(p.relative_to(root / "image_set")): p.read_bytes()
                                         for p in sorted((root / "image_set" / split).rglob("*.jpg"))})
    serve_osf_node(srv, "y63gw", images)
    return preprocessed


def test_things_eeg2_listed_through_the_osf_api_lands_unpacked_and_reads(server, things_eeg2_release, tmp_path,
                                                                         capsys, monkeypatch, realnet_home):
    _osf_things_eeg2(server, things_eeg2_release)
    monkeypatch.setenv("REALNET_OSF_API", f"{server.url}/v2")
    dest = tmp_path / "downloads"
    code, out, err = cli(["things-eeg2", "things-eeg2-images", "--subjects", "1-2", "--dest", str(dest),
                          "--quiet"], capsys)
    assert code == 0, err
    assert "unpacked into" in out and "OSF's file metadata for node anp5v" in out
    release = ThingsEEG2Release(dest / "things-eeg2")
    original = ThingsEEG2Release(things_eeg2_release)
    assert release.subjects() == [1, 2]
    for subject in (1, 2):
        for split in ("training", "test"):
            assert np.array_equal(release.raw_eeg(subject, split)["preprocessed_eeg_data"],
                                  original.raw_eeg(subject, split)["preprocessed_eeg_data"])
    assert release.image_metadata() == original.image_metadata()
    assert [p.read_bytes() for p in release.image_paths("training")] == \
        [p.read_bytes() for p in original.image_paths("training")]
    assert not (dest / "things-eeg2" / ".archives").exists() or files_under(dest / "things-eeg2" / ".archives") == []
    listing = json.loads((realnet_home / "downloads" / "listings" / "things-eeg2.json").read_text())
    assert [f["path"] for f in listing["files"]] == ["sub-01.zip", "sub-02.zip"]
    assert len(server.requests_for("/v2/nodes/anp5v/files/osfstorage/")) == 1  # one page holds both zips
    assert len(server.requests_for("/v2/nodes/y63gw/files/osfstorage/")) == 2  # three files: links.next followed
    served = len(server.log)
    code, out, _ = cli(["things-eeg2", "--subjects", "1", "--dest", str(dest), "--quiet"], capsys)
    assert code == 0 and "already unpacked" in out
    assert all(not p.startswith("/download/") for p, _ in server.log[served:])


def test_a_corrupted_download_is_refused_and_nothing_of_it_is_kept(server, tmp_path, capsys, monkeypatch,
                                                                   user_error_code, realnet_home):
    embedding = write_spose_embedding(tmp_path / "spose_embedding_49d_sorted.txt", n_concepts=30).read_bytes()
    serve_osf_node(server, "z2784", {"data/spose_embedding_49d_sorted.txt": embedding})
    corrupted = bytearray(embedding)
    corrupted[len(corrupted) // 2] ^= 0x01
    server.files["/download/z2784/data/spose_embedding_49d_sorted.txt"] = bytes(corrupted)
    monkeypatch.setenv("REALNET_OSF_API", f"{server.url}/v2")
    dest = tmp_path / "downloads"
    code, out, err = cli(["spose", "--dest", str(dest), "--quiet"], capsys)
    assert code == user_error_code
    assert_one_line_error(err, "sha256", hashlib.sha256(corrupted).hexdigest(), "nothing was kept")
    assert files_under(dest) == []
    record = json.loads((realnet_home / "downloads" / "fetch-record.json").read_text())
    assert record["refused"]["spose/data/spose_embedding_49d_sorted.txt"]["sha256"] == \
        hashlib.sha256(corrupted).hexdigest()
    assert record["files"] == {}


def test_several_refusals_are_listed_with_their_accept_values_and_the_good_files_still_land(
        server, tmp_path, capsys, monkeypatch, user_error_code):
    files = {"data/spose_embedding_49d_sorted.txt": b"1 2 3\n", "variables/labels.mat": b"labels",
             "variables/labels_short.mat": b"short labels"}
    serve_osf_node(server, "z2784", files)
    for path in ("data/spose_embedding_49d_sorted.txt", "variables/labels.mat"):
        server.files[f"/download/z2784/{path}"] = b"tampered " + files[path]
    monkeypatch.setenv("REALNET_OSF_API", f"{server.url}/v2")
    dest = tmp_path / "downloads"
    code, out, err = cli(["spose", "--dest", str(dest), "--quiet"], capsys)
    assert code == user_error_code
    assert_one_line_error(err, "refused 2 files", "listed above")
    for path in ("data/spose_embedding_49d_sorted.txt", "variables/labels.mat"):
        assert f"REFUSED spose/{path}" in out
        assert f"--accept-sha256 {hashlib.sha256(b'tampered ' + files[path]).hexdigest()}" in out
    assert files_under(dest / "spose") == ["labels_short.mat"]
    accept = hashlib.sha256(b"tampered " + files["variables/labels.mat"]).hexdigest()
    code, out, err = cli(["spose", "--dest", str(dest), "--quiet", "--accept-sha256", accept], capsys)
    assert code == user_error_code  # the embedding is still refused; labels.mat, accepted, lands despite its size
    assert (dest / "spose" / "labels.mat").read_bytes() == b"tampered labels"
    assert_one_line_error(err, "spose_embedding_49d_sorted.txt")


@pytest.mark.parametrize("range_support", [True, False], ids=["resumes-with-range", "restarts-without-range"])
def test_an_interrupted_download_resumes_in_the_same_run(server, tmp_path, capsys, monkeypatch, range_support):
    embedding = write_spose_embedding(tmp_path / "e.txt", n_concepts=200).read_bytes()
    serve_osf_node(server, "z2784", {"data/spose_embedding_49d_sorted.txt": embedding})
    path = "/download/z2784/data/spose_embedding_49d_sorted.txt"
    server.cut_once[path] = 5000
    if not range_support:
        server.no_range.add(path)
    monkeypatch.setenv("REALNET_OSF_API", f"{server.url}/v2")
    dest = tmp_path / "downloads"
    code, out, err = cli(["spose", "--dest", str(dest), "--quiet"], capsys)
    assert code == 0, err
    assert (dest / "spose" / "spose_embedding_49d_sorted.txt").read_bytes() == embedding
    assert server.requests_for(path) == [None, "bytes=5000-"]
    assert ("resumed at byte 5000" in out) == range_support
    assert files_under(dest / "spose") == ["spose_embedding_49d_sorted.txt"]


def test_an_interrupted_run_leaves_its_bytes_and_the_next_run_resumes(server, tmp_path, capsys, monkeypatch,
                                                                      user_error_code):
    embedding = write_spose_embedding(tmp_path / "e.txt", n_concepts=200).read_bytes()
    serve_osf_node(server, "z2784", {"data/spose_embedding_49d_sorted.txt": embedding})
    path = "/download/z2784/data/spose_embedding_49d_sorted.txt"
    server.cut_once[path] = 7000
    monkeypatch.setenv("REALNET_OSF_API", f"{server.url}/v2")
    dest = tmp_path / "downloads"
    code, _, err = cli(["spose", "--dest", str(dest), "--quiet", "--retries", "0"], capsys)
    assert code == user_error_code
    assert_one_line_error(err, "7000 bytes received are kept", "rerun resumes")
    assert files_under(dest / "spose") == [".spose_embedding_49d_sorted.txt.download"]
    code, out, err = cli(["spose", "--dest", str(dest), "--quiet", "--retries", "0"], capsys)
    assert code == 0, err
    assert "resumed at byte 7000" in out
    assert server.requests_for(path) == [None, "bytes=7000-"]
    assert files_under(dest / "spose") == ["spose_embedding_49d_sorted.txt"]
    assert load_spose_embedding(dest / "spose" / "spose_embedding_49d_sorted.txt").shape == (200, 49)


def test_without_a_published_hash_size_and_sha256_are_recorded_and_checked_later(server, tmp_path, capsys, monkeypatch,
                                                                                  user_error_code, realnet_home):
    """First fetch in a fresh process of the installed `realnet` (through a mirror); a changed file is refused."""
    embedding = write_spose_embedding(tmp_path / "e.txt", n_concepts=40).read_bytes()
    serve_osf_node(server, "z2784", {"data/spose_embedding_49d_sorted.txt": embedding,
                                     "variables/labels_short.mat": b"MATLAB 5.0 stand-in"}, hashes=False)
    from realnet_plugins.fetch.listings import list_osf_files, listing_to_json

    monkeypatch.setenv("REALNET_OSF_API", f"{server.url}/v2")
    listed = list_osf_files("z2784")
    monkeypatch.delenv("REALNET_OSF_API")
    mirrored = {f"/mirror/spose/{f.path}": server.files[f"/download/z2784/{f.path}"] for f in listed}
    server.files.update(mirrored)
    server.files["/mirror/spose/listing.json"] = listing_to_json("spose", "test", listed).encode()
    dest = tmp_path / "downloads"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "REALNET_OSF_API")}
    env.update(REALNET_HOME=str(realnet_home), REALNET_MIRROR=f"{server.url}/mirror")
    done = subprocess.run([str(SITE / "realnet"), "fetch", "spose", "--dest", str(dest), "--quiet"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "recorded on this first fetch" in done.stdout
    assert server.requests_for("/mirror/spose/data/spose_embedding_49d_sorted.txt") == [None]
    landed = dest / "spose" / "spose_embedding_49d_sorted.txt"
    assert landed.read_bytes() == embedding and (dest / "spose" / "labels_short.mat").is_file()
    record = json.loads((realnet_home / "downloads" / "fetch-record.json").read_text())
    entry = record["files"]["spose/data/spose_embedding_49d_sorted.txt"]
    assert (entry["sha256"], entry["size"], entry["basis"]) == (hashlib.sha256(embedding).hexdigest(),
                                                                len(embedding), "recorded")
    landed.unlink()
    server.files["/mirror/spose/data/spose_embedding_49d_sorted.txt"] = embedding.replace(b"0", b"1", 1)
    code, _, err = cli(["spose", "--dest", str(dest), "--quiet", "--mirror", f"{server.url}/mirror"], capsys)
    assert code == user_error_code
    assert_one_line_error(err, "recorded at its first fetch")
    assert not landed.exists()


def test_shen2019_listed_through_the_figshare_api_lands_md5_checked(server, tmp_path, capsys, monkeypatch):
    root = write_shen2019_release(tmp_path / "shen", n_subjects=2, n_natural=3, n_shape=2, n_letter=2,
                                  voxels_per_roi=2, image_size=16)
    files = {p.name: p.read_bytes() for p in root.glob("*.h5")}
    files["sub-01_perceptionNaturalImageTraining_original_VC.h5"] = b"not requested"
    serve_figshare_article(server, 7033577, files)
    monkeypatch.setenv("REALNET_FIGSHARE_API", f"{server.url}/v2")
    dest = tmp_path / "downloads"
    code, out, err = cli(["shen2019", "--subjects", "2", "--dest", str(dest), "--quiet"], capsys)
    assert code == 0, err
    assert files_under(dest / "shen2019") == sorted(n for n in files if n.startswith("sub-02_"))
    assert all((dest / "shen2019" / n).read_bytes() == files[n] for n in files if n.startswith("sub-02_"))
    assert "figshare's computed_md5" in out and "stimulus lists" in out


def test_torchvision_prefix_is_checked(server, tmp_path, capsys, user_error_code):
    from realnet_plugins.fetch import plan

    resnet = plan(["resnet18"])[0][0]
    server.files[f"/m/resnet18/{resnet.path}"] = b"not the torchvision file"
    dest = tmp_path / "downloads"
    code, _, err = cli(["resnet18", "--mirror", f"{server.url}/m", "--dest", str(dest), "--quiet"], capsys)
    assert code == user_error_code
    assert_one_line_error(err, f"does not start with {resnet.sha256_prefix}",
                          hashlib.sha256(b"not the torchvision file").hexdigest())
    assert files_under(dest) == []


def test_land_file_checks_a_published_sha256_prefix(server, tmp_path):
    from realnet_plugins.fetch import IntegrityError, land_file

    body = b"weights " * 1000
    sha256 = hashlib.sha256(body).hexdigest()
    server.files["/models/w.pth"] = body
    landed = land_file(f"{server.url}/models/w.pth", tmp_path / "a" / "w.pth", root=tmp_path,
                       sha256_prefix=sha256[:8], progress=False)
    assert (landed.sha256, landed.size, landed.downloaded) == (sha256, len(body), True)
    again = land_file(f"{server.url}/models/w.pth", tmp_path / "a" / "w.pth", root=tmp_path,
                      sha256_prefix=sha256[:8], progress=False)
    assert not again.downloaded and len(server.requests_for("/models/w.pth")) == 1
    wrong = "0" * 8 if not sha256.startswith("0" * 8) else "1" * 8
    with pytest.raises(IntegrityError, match=f"does not start with {wrong}") as refused:
        land_file(f"{server.url}/models/w.pth", tmp_path / "b" / "w.pth", root=tmp_path, sha256_prefix=wrong,
                  progress=False)
    assert refused.value.sha256 == sha256 and not (tmp_path / "b").exists()


def test_a_broken_archive_leaves_nothing_unpacked(server, things_eeg2_release, tmp_path, capsys, monkeypatch,
                                                  user_error_code):
    broken = zipped({"sub-01/preprocessed_eeg_training.npy": b"x" * 4000})[:-30]
    serve_osf_node(server, "anp5v", {"sub-01.zip": broken})
    monkeypatch.setenv("REALNET_OSF_API", f"{server.url}/v2")
    dest = tmp_path / "downloads"
    code, _, err = cli(["things-eeg2", "--subjects", "1", "--dest", str(dest), "--quiet"], capsys)
    assert code == user_error_code
    assert_one_line_error(err, "not a readable zip archive", "nothing was unpacked")
    assert not (dest / "things-eeg2" / "preprocessed_data").exists()
    assert [p for p in files_under(dest / "things-eeg2") if not p.startswith(".archives/")] == []


@pytest.mark.parametrize("args, needle", [
    (["thingseeg2"], "did you mean things-eeg2"),
    ([], "name what to fetch"),
    (["spose", "--subjects", "1"], "--subjects applies to"),
    (["things-eeg2", "--subjects", "0-11"], "not [0, 11]"),
    (["things-eeg2", "--subjects", "one"], "--subjects"),
    (["spose", "--mirror", "ftp://host/x"], "http(s) URL"),
    (["spose", "--retries", "-1"], "--retries"),
])
def test_user_mistakes_get_one_line_and_download_nothing(args, needle, capsys, user_error_code, tmp_path):
    code, _, err = cli([*args, "--dest", str(tmp_path / "d")], capsys)
    assert code == user_error_code
    assert_one_line_error(err, needle)
    assert not (tmp_path / "d").exists()


def test_list_and_help_work_without_pooch_and_fetching_says_what_is_missing(tmp_path):
    code = """
        import sys
        sys.modules['pooch'] = None
        from realnet_plugins.cli import main
        assert main(['fetch', '--list']) == 0
        try:
            main(['fetch', '--help'])
        except SystemExit as exit_:
            assert exit_.code == 0
        print('codes', main(['fetch', 'spose']), main(['info', 'realnet_s05']))
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", __import__("textwrap").dedent(code)], capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "realnet-weights" in done.stdout and "--accept-sha256" in done.stdout
    _, fetch_code, user_error = done.stdout.strip().splitlines()[-1].split()
    assert fetch_code == user_error != "0"
    assert done.stderr.strip().splitlines()[0] == (
        "realnet fetch: error: `realnet fetch` needs pooch (and requests), which are not installed here: "
        "pip install 'pooch>=1.6'")
