"""``blurgen view``: a local web server for browsing, re-sampling and previewing kernels.

Standard library only (``http.server``) with a page of plain HTML, CSS and JavaScript that ships
in the package: no network, no CDN. It binds 127.0.0.1 unless a host is given explicitly, serves
only its three assets and a JSON API, and refuses uploads over :data:`MAX_UPLOAD` bytes.

API (all JSON unless noted):

* ``GET /api/state``: where the kernels come from, the current parameters, presets, cameras;
* ``GET /api/kernels``: every kernel's metadata row;
* ``GET /api/kernel/<i>.png``: thumbnail (PNG);
* ``GET /api/detail/<i>``: trajectory, exposure-fraction PSFs, metadata;
* ``GET /api/preview/<i>?camera=none&motion=uniform``: the preview image, sharp and blurred by
  kernel i; with ``motion=shake|kohler|roll``, blurred by camera rotation instead (blur that
  varies across the image), with its blur map;
* ``POST /api/sample``: re-sample with the posted parameters (JSON);
* ``POST /api/image``: upload a preview image (raw bytes); ``POST /api/bank``: open a bank (.npz bytes);
* ``GET /api/export/preset`` and ``GET /api/export/bank``: downloads of the parameters / kernels.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qs, urlparse

import cv2
import numpy as np

from blurgen.kernels.bank import BankFormatError, KernelBank, sample_kernels
from blurgen.blurring.camera import CAMERA_PRESETS
from blurgen.blurring.motion import SHAKES
from blurgen.kernels.presets import preset_names
from blurgen.sources import DeadLeaves, read_image
from blurgen.viewer.render import detail, kernel_png, motion_preview, preview

MAX_UPLOAD = 16 * 2**20  # bytes
MAX_SAMPLE = 1024  # kernels a re-sample may ask for
MAX_KERNEL_SIZE = 257  # px; a page of 1024 such kernels is already 270 MB of float32
MAX_ITERS = 100_000
ASSETS = {"/": ("index.html", "text/html; charset=utf-8"),
          "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
          "/static/style.css": ("style.css", "text/css; charset=utf-8")}
DEFAULT_PARAMS = {"preset": "deblurgan", "expl": "", "max_len": "", "iters": "", "size": 65, "exposure": "1", "seed": 0, "n": 64}
# empty expl / max_len / iters mean "the preset's value"


class RequestError(Exception):
    """A request the viewer refuses, with the HTTP status and the message the page shows."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        self.status, self.message = status, message
        super().__init__(message)


@dataclass
class ViewerState:
    """The kernels on show and the preview image. One lock: requests come from several threads."""

    bank: KernelBank
    source: str
    params: dict = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    image: np.ndarray | None = None
    image_name: str = "built-in dead leaves"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def preview_image(self) -> np.ndarray:
        if self.image is None:
            self.image = DeadLeaves(n=1, height=384, width=384, seed=1)[0]
        return self.image


def sample_from_params(params: dict) -> KernelBank:
    """Re-sample a bank from the page's controls (validated here: the page is not trusted). The
    preset must be a named one: a preset file's path would let a request read the server's files."""
    preset = str(params.get("preset", "deblurgan"))
    if preset not in preset_names():
        raise RequestError(HTTPStatus.BAD_REQUEST, f"unknown preset; the viewer samples the named presets ({', '.join(preset_names())})")
    try:
        n = int(params.get("n", 64))
        if not 1 <= n <= MAX_SAMPLE:
            raise ValueError(f"n must be between 1 and {MAX_SAMPLE}")
        size = int(params.get("size", 65))
        if not 3 <= size <= MAX_KERNEL_SIZE:
            raise ValueError(f"size must be between 3 and {MAX_KERNEL_SIZE} px")
        if params.get("iters") not in (None, "") and not 2 <= int(params["iters"]) <= MAX_ITERS:
            raise ValueError(f"iters must be between 2 and {MAX_ITERS}")
        overrides = {"expl": params.get("expl") or None, "max_len": float(params["max_len"]) if params.get("max_len") not in (None, "") else None,
                     "iters": int(params["iters"]) if params.get("iters") not in (None, "") else None}
        return sample_kernels(n, seed=int(params.get("seed", 0)), size=size, preset=preset,
                              exposure=str(params.get("exposure", "1")), **overrides)
    except (ValueError, TypeError, KeyError) as error:
        raise RequestError(HTTPStatus.BAD_REQUEST, str(error)) from None
    except MemoryError:
        raise RequestError(HTTPStatus.BAD_REQUEST, "these settings need more memory than this machine has; ask for fewer or smaller kernels") from None


def kernel_index(state: ViewerState, text: str) -> int:
    try:
        i = int(text)
    except ValueError:
        raise RequestError(HTTPStatus.NOT_FOUND, f"no kernel {text!r}") from None
    if not 0 <= i < len(state.bank):
        raise RequestError(HTTPStatus.NOT_FOUND, f"no kernel {i}: there are {len(state.bank)}")
    return i


def state_summary(state: ViewerState) -> dict:
    return {
        "source": state.source, "count": len(state.bank), "size": state.bank.size, "params": state.params,
        "info": state.bank.info, "stats": state.bank.stats(), "presets": preset_names(),
        "cameras": list(CAMERA_PRESETS), "image": state.image_name, "max_upload": MAX_UPLOAD,
    }


class Reply(NamedTuple):
    """What a route answers: status, body, content type and extra headers."""

    body: bytes
    content_type: str = "application/json"
    headers: dict = {}
    status: HTTPStatus = HTTPStatus.OK


@dataclass
class Request:
    """One API request: what follows the route's prefix (``7`` of ``detail/7``), the query, and
    the body and headers (read only by the routes that take them)."""

    rest: str
    query: dict
    read_body: Callable[[], bytes]
    headers: object


def as_json(data: object) -> Reply:
    return Reply(json.dumps(data).encode())


def get_state(state: ViewerState, request: Request) -> Reply:
    return as_json(state_summary(state))


def get_kernels(state: ViewerState, request: Request) -> Reply:
    return as_json([{"i": i, **{k: row[k].item() for k in row.dtype.names}} for i, row in enumerate(state.bank.meta)])


def get_kernel_png(state: ViewerState, request: Request) -> Reply:
    if not request.rest.endswith(".png"):
        raise RequestError(HTTPStatus.NOT_FOUND, f"no such API route: GET /api/kernel/{request.rest}")
    i = kernel_index(state, request.rest[: -len(".png")])
    return Reply(kernel_png(state.bank.kernels[i], zoom=2), "image/png")


def get_detail(state: ViewerState, request: Request) -> Reply:
    return as_json(detail(state.bank, kernel_index(state, request.rest)))


def get_preview(state: ViewerState, request: Request) -> Reply:
    i = kernel_index(state, request.rest)
    camera = request.query.get("camera", ["none"])[0]
    if camera not in CAMERA_PRESETS:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"unknown camera {camera!r}")
    shake = request.query.get("motion", ["uniform"])[0]
    seed = int(state.params.get("seed", 0))
    if shake == "uniform":
        return as_json(preview(state.preview_image(), state.bank.kernels[i], camera, seed=seed))
    if shake in SHAKES:
        return as_json(motion_preview(state.preview_image(), camera, shake, i, seed=seed))
    raise RequestError(HTTPStatus.BAD_REQUEST, f"unknown motion {shake!r}; choose uniform, {', '.join(SHAKES)}")


def post_sample(state: ViewerState, request: Request) -> Reply:
    # Only a JSON body: a page on another site can send text/plain to localhost without asking first.
    if (request.headers.get("Content-Type") or "").split(";")[0].strip().lower() != "application/json":
        raise RequestError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "the parameters must be sent as application/json")
    try:
        params = {**DEFAULT_PARAMS, **json.loads(request.read_body() or b"{}")}
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError):
        raise RequestError(HTTPStatus.BAD_REQUEST, "the parameters are not a JSON object") from None
    started = time.perf_counter()
    state.bank = sample_from_params(params)
    state.params, state.source = params, "sampled"
    return as_json({**state_summary(state), "seconds": time.perf_counter() - started})


def post_image(state: ViewerState, request: Request) -> Reply:
    data = request.read_body()
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) if data else None
    if image is None:
        raise RequestError(HTTPStatus.BAD_REQUEST, "that file is not an image the viewer can read")
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA if image.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    state.image, state.image_name = image, request.headers.get("X-File-Name", "uploaded image")[:200]
    return as_json(state_summary(state))


def post_bank(state: ViewerState, request: Request) -> Reply:
    name = request.headers.get("X-File-Name", "the uploaded bank")[:200]
    try:
        state.bank = load_bank_bytes(request.read_body(), name)
    except BankFormatError as error:
        raise RequestError(HTTPStatus.BAD_REQUEST, str(error)) from None
    state.source = name
    return as_json(state_summary(state))


def get_preset_file(state: ViewerState, request: Request) -> Reply:
    preset = {"format": "blurgen.preset", "spec": state.bank.info.get("spec", {}), "size": state.bank.size,
              "exposures": state.bank.info.get("exposures"), "seed": state.bank.info.get("seed")}
    return Reply(json.dumps(preset, indent=2).encode(), headers={"Content-Disposition": 'attachment; filename="blurgen-preset.json"'})


def get_bank_file(state: ViewerState, request: Request) -> Reply:
    return Reply(state.bank.to_bytes(), "application/octet-stream", {"Content-Disposition": 'attachment; filename="kernels.npz"'})


# (method, route) → handler; a route ending in "/" takes what follows it (request.rest).
ROUTES: dict[tuple[str, str], Callable[[ViewerState, Request], Reply]] = {
    ("GET", "state"): get_state,
    ("GET", "kernels"): get_kernels,
    ("GET", "kernel/"): get_kernel_png,
    ("GET", "detail/"): get_detail,
    ("GET", "preview/"): get_preview,
    ("POST", "sample"): post_sample,
    ("POST", "image"): post_image,
    ("POST", "bank"): post_bank,
    ("GET", "export/preset"): get_preset_file,
    ("GET", "export/bank"): get_bank_file,
}


def find_route(method: str, route: str) -> tuple[Callable[[ViewerState, Request], Reply], str]:
    """The handler of ``method /api/<route>`` and the part of the route after its prefix."""
    if (method, route) in ROUTES:
        return ROUTES[method, route], ""
    prefix, _, rest = route.partition("/")
    if rest and (method, prefix + "/") in ROUTES:
        return ROUTES[method, prefix + "/"], rest
    raise RequestError(HTTPStatus.NOT_FOUND, f"no such API route: {method} /api/{route}")


def make_handler(state: ViewerState) -> type[BaseHTTPRequestHandler]:
    """The request handler class bound to ``state``."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "blurgen-view"

        def log_message(self, format: str, *args: object) -> None:  # keep the terminal quiet
            pass

        def send(self, reply: Reply) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(reply.body)

        def body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_UPLOAD:
                raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                   f"the upload is {length / 2**20:.1f} MiB; the viewer takes at most {MAX_UPLOAD // 2**20} MiB")
            return self.rfile.read(length)

        def handle_request(self, method: str) -> None:
            url = urlparse(self.path)
            try:
                if method == "GET" and url.path in ASSETS:
                    name, content_type = ASSETS[url.path]
                    self.send(Reply((files("blurgen.viewer") / "static" / name).read_bytes(), content_type))
                elif url.path.startswith("/api/"):
                    handler, rest = find_route(method, url.path[len("/api/"):])
                    with state.lock:
                        self.send(handler(state, Request(rest, parse_qs(url.query), self.body, self.headers)))
                else:
                    raise RequestError(HTTPStatus.NOT_FOUND, "not found")
            except RequestError as error:
                if error.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
                    self.close_connection = True  # the unread body must not be taken for the next request
                self.send(Reply(json.dumps({"error": error.message}).encode(), status=error.status))

        def do_GET(self) -> None:
            self.handle_request("GET")

        def do_POST(self) -> None:
            self.handle_request("POST")

    return Handler


def load_bank_bytes(data: bytes, name: str) -> KernelBank:
    """A bank from the bytes of an uploaded .npz called ``name``; BankFormatError when it is not one."""
    with tempfile.NamedTemporaryFile(suffix=".npz") as handle:
        handle.write(data)
        handle.flush()
        try:
            return KernelBank.load(handle.name)
        except BankFormatError as error:
            raise BankFormatError(str(error).replace(handle.name, name)) from None


def initial_state(bank_path: Path | None, image_path: Path | None) -> ViewerState:
    """The state ``blurgen view`` starts with; raises BankFormatError / BadImage for bad files."""
    if bank_path is not None:
        bank, source = KernelBank.load(bank_path), bank_path.name
    else:
        bank, source = sample_from_params(DEFAULT_PARAMS), "sampled"
    state = ViewerState(bank, source)
    if image_path is not None:
        state.image, state.image_name = read_image(image_path), image_path.name
    return state


def make_server(state: ViewerState, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A server for ``state`` on ``host:port`` (port 0: a free one); call ``serve_forever()``."""
    server = ThreadingHTTPServer((host, port), make_handler(state))
    server.daemon_threads = True
    return server

