"""The evidence pack's HTML page, rendered by a real browser (headless Chromium) with the
network cut off: the screenshot must show a page, not a blank one."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from accessgov.governance.review import quarter_of
from tests.support.shell import Shell

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTH, HEIGHT = 1200, 1600


def screenshot(page: Path, folder: Path) -> Path:
    """Headless Chromium's screenshot of `page`, with nothing fetched from the network.

    `folder` must have a short path: Chromium puts a socket in its temporary folder, and a
    socket's path may not be longer than 107 bytes."""
    assert CHROMIUM is not None
    shot = folder / "shot.png"
    environment = dict(os.environ, TMPDIR=str(folder))
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={folder / 'profile'}", f"--screenshot={shot}",
         f"--window-size={WIDTH},{HEIGHT}", page.as_uri()],
        capture_output=True, timeout=120, cwd=folder, env=environment, check=False)
    assert shot.is_file(), f"chromium drew nothing: {done.stderr.decode(errors='replace')[-800:]}"
    return shot


def pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of pixels) of an 8-bit RGB or RGBA PNG, decoded with zlib."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, data, header = 8, [], None
    while position < len(png):
        (length,) = struct.unpack(">I", png[position:position + 4])
        kind, body = png[position + 4:position + 8], png[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            data.append(body)
    assert header is not None
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    size = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(data))
    stride = width * size
    rows, previous = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), previous,
                         size)
        rows.append(bytes(line))
        previous = line
    return width, height, [_rgb(row, size) for row in rows]


def _unfilter(kind: int, line: bytearray, above: bytes, size: int) -> bytes:
    if kind == 0:
        return bytes(line)
    if kind == 2:
        return bytes((a + b) & 0xFF for a, b in zip(line, above, strict=True))
    for i in range(len(line)):
        left = line[i - size] if i >= size else 0
        up = above[i]
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
        else:
            corner = above[i - size] if i >= size else 0
            estimate = left + up - corner
            near = min((abs(estimate - left), 0, left), (abs(estimate - up), 1, up),
                       (abs(estimate - corner), 2, corner))
            line[i] = (line[i] + near[2]) & 0xFF
    return bytes(line)


def _rgb(row: bytes, size: int) -> bytes:
    return row if size == 3 else b"".join(row[i:i + 3] for i in range(0, len(row), 4))


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get "
                    "install chromium; make test installs it when it may)")
def test_the_evidence_pack_renders_in_a_real_browser(
        shared: Shell, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    sh = shared
    sh.run(f"person add zoe --name 'Zoë <script>document.body.innerHTML=\"\"</script>' "
           f"--email z@example.org --category volunteer {sh.as_('vperkins')}")
    sh.run(f"grant add zoe instagram-main --role editor --reason Youth {sh.as_('vperkins')}")
    sh.run(f"review start {sh.as_('vperkins')}")
    q = quarter_of(sh.clock.now.date().isoformat())
    sh.run(f"review decide {q} 1 keep {sh.as_('spatel')}")
    sh.run(f"review decide {q} 2 revoke {sh.as_('spatel')}")
    sh.run(f"review close {q} {sh.as_('spatel')}")
    page = tmp_path / "pack.html"
    sh.run(f"review export {q} --format html -o {page}")

    browser = tmp_path_factory.mktemp("chromium")  # a short path, for Chromium's socket
    width, height, rows = pixels(screenshot(page, browser).read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    colours = {row[i:i + 3] for row in rows for i in range(0, len(row), 3)}
    assert len(colours) > 20, f"the page looks blank: {len(colours)} colours"
    dark = sum(1 for row in rows[:400] for i in range(0, len(row), 3) if max(row[i:i + 3]) < 80)
    assert dark > 2000, "no text drawn at the top of the page"  # the title and the summary


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get "
                    "install chromium; make test installs it when it may)")
def test_the_bundles_page_shows_its_shared_logins_and_population_in_a_real_browser(
        shared: Shell, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Issue 17, item 4: the HTML of an evidence bundle, as Chromium builds it (scripts on):
    the shared-login exceptions and how the population was produced are there, and a name
    written as a script did not run."""
    sh = shared
    sh.run(f"account update tiktok-main --shared-login-exception 'Password only in accessgov' "
           f"{sh.as_('spatel')}")
    sh.run(f"person add zoe --name 'Zoë <script>document.body.innerHTML=\"gone\"</script>' "
           f"--email z@example.org --category volunteer {sh.as_('vperkins')}")
    sh.run(f"review start {sh.as_('vperkins')}")
    q = quarter_of(sh.clock.now.date().isoformat())
    folder = tmp_path / "bundle"
    sh.run(f"review export {q} --format bundle -o {folder} {sh.as_('spatel')}")
    browser = tmp_path_factory.mktemp("chromium-dom")
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update",
         f"--user-data-dir={browser / 'profile'}", "--dump-dom",
         (folder / f"review-{q}.html").as_uri()],
        capture_output=True, timeout=120, cwd=browser, check=False,
        env=dict(os.environ, TMPDIR=str(browser))).stdout.decode()
    assert "Shared logins: recorded exceptions" in dom
    assert "Password only in accessgov" in dom
    assert "How the population was produced" in dom
    assert "<body>gone</body>" not in dom
