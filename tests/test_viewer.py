import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from blurgen.kernels.bank import sample_kernels
from blurgen.viewer.server import MAX_UPLOAD, initial_state, make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("BLURGEN_SCREENSHOTS", "")) if os.environ.get("BLURGEN_SCREENSHOTS") else None


@pytest.fixture
def viewer(tmp_path):
    bank_path = sample_kernels(9, seed=2).save(tmp_path / "bank.npz")
    server = make_server(initial_state(bank_path, None))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def request(server, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    connection.putrequest(method, path, skip_accept_encoding=True)
    for key, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
        connection.putheader(key, value)
    connection.endheaders()
    if body:
        connection.send(body)
    response = connection.getresponse()
    return response.status, response.read()


def test_binds_localhost_by_default(viewer):
    assert viewer.server_address[0] == "127.0.0.1"


@pytest.mark.parametrize("path", ["/../../etc/passwd", "/static/../../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd",
                                  "/static/app.js/../../server.py", "//etc/passwd", "/static/", "/blurgen/viewer/server.py"])
def test_only_its_own_assets_are_served(viewer, path):
    status, body = request(viewer, "GET", path)
    assert status == 404 and b"root:" not in body and b"import" not in body


def test_assets_and_api_answer(viewer):
    assert request(viewer, "GET", "/")[0] == 200
    status, body = request(viewer, "GET", "/api/kernels")
    assert status == 200 and len(json.loads(body)) == 9
    assert request(viewer, "GET", "/api/kernel/8.png")[1][:4] == b"\x89PNG"
    assert request(viewer, "GET", "/api/kernel/9.png")[0] == 404
    assert request(viewer, "GET", "/api/preview/0?camera=film")[0] == 400
    assert request(viewer, "GET", "/api/preview/0?motion=spin")[0] == 400
    status, body = request(viewer, "GET", "/api/preview/2?camera=gamma&motion=roll")
    shown = json.loads(body)
    assert status == 200 and shown["blur_map"].startswith("data:image/png") and shown["blur_map_px"]["max"] > shown["blur_map_px"]["min"]


def test_oversized_uploads_are_refused_with_a_message(viewer):
    status, body = request(viewer, "POST", "/api/image", headers={"Content-Length": str(MAX_UPLOAD + 1)})
    assert status == 413 and "at most 16 MiB" in json.loads(body)["error"]


def test_a_malformed_bank_is_a_clear_error_on_the_api_and_the_cli(viewer, tmp_path):
    status, body = request(viewer, "POST", "/api/bank", body=b"this is not an npz file")
    assert status == 400 and "not a readable kernel bank" in json.loads(body)["error"]
    (tmp_path / "bad.npz").write_bytes(b"junk")
    result = subprocess.run([sys.executable, "-m", "blurgen", "view", str(tmp_path / "bad.npz"), "--no-browser"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "not a readable kernel bank" in result.stderr and "Traceback" not in result.stderr


JSON = {"Content-Type": "application/json"}


def test_resampling_is_fast_and_bounded(viewer):
    status, body = request(viewer, "POST", "/api/sample", body=json.dumps({"n": 64, "seed": 3}).encode(), headers=JSON)
    assert status == 200 and json.loads(body)["count"] == 64 and json.loads(body)["seconds"] < 0.2
    status, body = request(viewer, "POST", "/api/sample", body=json.dumps({"n": 10**6}).encode(), headers=JSON)
    assert status == 400 and "n must be" in json.loads(body)["error"]
    status, body = request(viewer, "POST", "/api/sample", body=json.dumps({"size": 100001}).encode(), headers=JSON)
    assert status == 400 and "size must be between 3 and 257" in json.loads(body)["error"]


def test_no_path_from_a_request_reaches_the_file_system(viewer, tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"password": "hunter2"}))
    for preset in (str(secret), str(tmp_path / "missing.json"), "../secret.json"):
        status, body = request(viewer, "POST", "/api/sample", body=json.dumps({"preset": preset}).encode(), headers=JSON)
        error = json.loads(body)["error"]
        assert status == 400 and error.startswith("unknown preset") and "password" not in error and "exist" not in error
    status, body = request(viewer, "POST", "/api/sample", body=json.dumps({"n": 4}).encode(), headers={"Content-Type": "text/plain"})
    assert status == 415 and "application/json" in json.loads(body)["error"]
    status, body = request(viewer, "POST", "/api/sample", body=b"[1, 2]", headers=JSON)
    assert status == 400 and "not a JSON object" in json.loads(body)["error"]


def shoot(page, name: str) -> None:
    if SCREENSHOTS is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_the_page_in_a_real_browser(viewer, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    url = f"http://127.0.0.1:{viewer.server_address[1]}/"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        page.wait_for_selector("#gallery figure")
        assert page.locator("#gallery figure").count() == 9
        assert "9 kernels from bank.npz" in page.locator("#source").inner_text()
        page.wait_for_function("document.querySelector('#blurred').src.startsWith('data:image/png')")
        shoot(page, "1-gallery")

        page.locator("#gallery figure").nth(4).click()
        page.wait_for_function("document.querySelector('#detail-title').textContent.startsWith('Kernel 4 ')")
        assert page.locator("#exposures img").count() == 4
        assert "footprint" in page.locator("#meta").inner_text()
        assert page.locator("#path").get_attribute("points").count(",") > 50
        assert page.locator("#exposures figcaption").first.inner_text() == "T = 1/100"
        page.wait_for_function("document.querySelector('#blurred').src.startsWith('data:image/png')")
        assert page.locator("#sharp").get_attribute("src") != page.locator("#blurred").get_attribute("src")
        shoot(page, "2-detail")

        before = page.request.get(url + "api/kernel/0.png").body()
        page.locator("#seed").fill("12345")
        page.wait_for_function("document.querySelector('#timing').textContent.includes('re-sampled 9 kernels')")
        assert "sampled live" in page.locator("#source").inner_text()
        after = page.request.get(url.rstrip("/") + page.locator("#gallery img").first.get_attribute("src")).body()
        assert after[:4] == b"\x89PNG" and after != before
        page.locator("#camera").select_option("realistic")
        page.wait_for_function("document.querySelector('#blurred').src.startsWith('data:image/png')")
        shoot(page, "3-resampled")
        assert page.locator("#blur-map-figure").is_hidden()
        page.locator("#motion").select_option("roll")
        page.wait_for_selector("#blur-map-figure:not([hidden])")
        assert page.locator("#blur-map").get_attribute("src").startswith("data:image/png")
        assert "blur map: path" in page.locator("#blur-map-caption").inner_text()
        shoot(page, "3b-motion")
        page.locator("#motion").select_option("uniform")
        page.wait_for_selector("#blur-map-figure[hidden]", state="attached")

        footprints = [k["footprint"] for k in page.request.get(url + "api/kernels").json()]
        page.locator("#fp-min").fill(str(sorted(footprints)[4]))
        assert page.locator("#gallery figure").count() == sum(f >= sorted(footprints)[4] for f in footprints)
        page.locator("#fp-min").fill("")
        page.locator("#n").fill("64")
        page.wait_for_function("document.querySelectorAll('#gallery figure').length === 64")

        image = cv2.imencode(".png", np.full((50, 70, 3), 200, np.uint8))[1].tobytes()
        page.locator("#image-file").set_input_files({"name": "mine.png", "mimeType": "image/png", "buffer": image})
        page.wait_for_function("document.querySelector('#image-name').textContent.includes('mine.png')")
        page.locator("#image-file").set_input_files({"name": "huge.png", "mimeType": "image/png", "buffer": b"0" * (MAX_UPLOAD + 1)})
        page.wait_for_selector("#error:not([hidden])")
        assert "at most 16 MiB" in page.locator("#error").inner_text()
        page.locator("#error").click()

        page.locator("#bank-file").set_input_files({"name": "broken.npz", "mimeType": "application/octet-stream", "buffer": b"junk"})
        page.wait_for_selector("#error:not([hidden])")
        assert page.locator("#error").inner_text() == "broken.npz is not a readable kernel bank (not an .npz archive)"
        shoot(page, "4-error")
        assert not errors, errors
        browser.close()
