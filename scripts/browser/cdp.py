#!/usr/bin/env python3
"""Drive headless Chromium over the DevTools protocol (standard library only).

Used by the browser test (Tests/InteropTests/BrowserTests.swift) and scripts/screenshots:

  cdp.py prices URL [--reads 2] [--interval 4] [--wait 30] [--settle 3]
      Loads URL, waits until the dashboard's price table has rows and --settle seconds
      more, then reads the table (symbol and last price of every row) --reads times,
      --interval seconds apart, and prints one JSON object: {"reads": [{"AAPL": 190.12, ...}, ...], "status": "live",
      "count": "500 symbols", "title": "..."}. Exits 2 when no row appears within --wait.

  cdp.py screenshot URL --out FILE [--width 1280] [--height 800] [--mobile] [--settle 6]
      Loads URL at that viewport, waits for table rows, lets prices tick for --settle
      seconds and saves a PNG of the viewport.

Chromium comes from $TICKSTREAM_CHROMIUM (scripts/test exports it) or `chromium` on PATH.
Only loopback addresses are used: Chromium's debugging port listens on 127.0.0.1.
"""

import argparse
import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request


class BrowserError(Exception):
    pass


class DevToolsSocket:
    """A minimal WebSocket client (RFC 6455): text frames, client masking, no extensions."""

    def __init__(self, url, timeout=120.0):
        match = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        if not match:
            raise BrowserError(f"unexpected DevTools address {url!r}")
        host, port, path = match.group(1), int(match.group(2)), match.group(3)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise BrowserError("DevTools closed the connection during the handshake")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise BrowserError(f"DevTools refused the WebSocket upgrade: {head[:200]!r}")
        self.next_id = 0

    def _read_exact(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(max(65536, count - len(self.buffer)))
            if not chunk:
                raise BrowserError("DevTools closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def send_text(self, text):
        payload = text.encode()
        header = bytes([0x81])
        length = len(payload)
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", length)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", length)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def receive_text(self):
        message = b""
        while True:
            first, second = self._read_exact(2)
            opcode, final = first & 0x0F, first & 0x80
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read_exact(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read_exact(8))[0]
            if second & 0x80:
                mask = self._read_exact(4)
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read_exact(length)))
            else:
                payload = self._read_exact(length)
            if opcode == 0x8:
                raise BrowserError("DevTools closed the WebSocket")
            if opcode in (0x9, 0xA):  # ping/pong: not sent by Chromium to clients in practice
                continue
            message += payload
            if final:
                return message.decode()

    def call(self, method, **params):
        """Sends one command and returns its result, skipping events that arrive meanwhile."""
        self.next_id += 1
        call_id = self.next_id
        self.send_text(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.receive_text())
            if reply.get("id") == call_id:
                if "error" in reply:
                    raise BrowserError(f"{method} failed: {reply['error']}")
                return reply.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails'].get('text')}: {expression[:80]}")
        return result.get("result", {}).get("value")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class HeadlessChromium:
    """A headless Chromium with its own temporary profile and a loopback debugging port."""

    def __init__(self, width, height):
        binary = os.environ.get("TICKSTREAM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
        if not binary:
            raise BrowserError("chromium not found: run scripts/test (it installs the Debian package) or set TICKSTREAM_CHROMIUM")
        self.profile = tempfile.mkdtemp(prefix="tickstream-chromium-")
        arguments = [binary, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                     "--disable-extensions", "--disable-background-networking", "--disable-dev-shm-usage",
                     "--hide-scrollbars", "--mute-audio", f"--user-data-dir={self.profile}",
                     "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                     f"--window-size={width},{height}", "about:blank"]
        if os.geteuid() == 0:
            arguments.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        self.process = subprocess.Popen(arguments, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        # Chromium writes the chosen port to DevToolsActivePort in the profile directory.
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        port = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrowserError(f"chromium exited with status {self.process.returncode} while starting")
            try:
                with open(port_file) as handle:
                    first = handle.readline().strip()
                if first:
                    port = int(first)
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        if port is None:
            self.stop()
            raise BrowserError("chromium did not open its debugging port within 30 s")
        self.port = port
        self.page = self._connect_page()

    def _connect_page(self):
        deadline = time.monotonic() + 15
        while True:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10) as response:
                targets = json.load(response)
            pages = [t for t in targets if t.get("type") == "page" and t.get("webSocketDebuggerUrl")]
            if pages:
                return DevToolsSocket(pages[0]["webSocketDebuggerUrl"])
            if time.monotonic() > deadline:
                raise BrowserError("chromium has no page target")
            time.sleep(0.2)

    def stop(self):
        if getattr(self, "page", None):
            self.page.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


# The dashboard's table: <tbody id="rows"> with one <tr> per symbol, first cell the
# symbol, second the last price (see Sources/Gateway/Dashboard/DashboardHTML.swift).
READ_TABLE = """(() => {
  const out = {};
  for (const tr of document.querySelectorAll('#rows tr')) {
    const cells = tr.querySelectorAll('td');
    if (cells.length >= 2) out[cells[0].textContent.trim()] = cells[1].textContent.trim();
  }
  return out;
})()"""


def wait_for_server(url, wait):
    """Polls URL until it answers, so a page still starting is not loaded as an error page."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                response.read()
                return
        except OSError as error:
            if time.monotonic() > deadline:
                raise BrowserError(f"{url} did not answer within {wait} s: {error}")
            time.sleep(0.5)


def open_dashboard(browser, url, wait, width, height, mobile):
    page = browser.page
    wait_for_server(url, wait)
    page.call("Page.enable")
    page.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=mobile)
    page.call("Page.navigate", url=url)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        rows = page.evaluate(READ_TABLE) or {}
        if rows and any(value for value in rows.values()):
            return rows
        time.sleep(0.5)
    status = page.evaluate("(document.getElementById('status-text') || {}).textContent")
    raise BrowserError(f"no price rows on {url} after {wait} s; page status {status!r}")


def number(text):
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return text  # left as text so the caller's check reports it


def command_prices(arguments):
    browser = HeadlessChromium(1280, 800)
    try:
        open_dashboard(browser, arguments.url, arguments.wait, 1280, 800, False)
        time.sleep(arguments.settle)  # the first rows arrive one by one; let the table fill
        reads = []
        for index in range(arguments.reads):
            if index:
                time.sleep(arguments.interval)
            rows = browser.page.evaluate(READ_TABLE) or {}
            reads.append({symbol: number(last) for symbol, last in rows.items()})
        text = browser.page.evaluate("document.getElementById('status-text').textContent")
        count = browser.page.evaluate("document.getElementById('count').textContent")
        title = browser.page.evaluate("document.title")
        print(json.dumps({"reads": reads, "status": text, "count": count, "title": title}))
    finally:
        browser.stop()


def command_screenshot(arguments):
    browser = HeadlessChromium(arguments.width, arguments.height)
    try:
        open_dashboard(browser, arguments.url, arguments.wait, arguments.width, arguments.height, arguments.mobile)
        time.sleep(arguments.settle)
        shot = browser.page.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        with open(arguments.out, "wb") as handle:
            handle.write(base64.b64decode(shot["data"]))
        print(f"saved {arguments.out} ({arguments.width}x{arguments.height})", file=sys.stderr)
    finally:
        browser.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    prices = commands.add_parser("prices", help="read the price table twice")
    prices.add_argument("url")
    prices.add_argument("--reads", type=int, default=2)
    prices.add_argument("--interval", type=float, default=4.0)
    prices.add_argument("--wait", type=float, default=30.0)
    prices.add_argument("--settle", type=float, default=3.0)
    shot = commands.add_parser("screenshot", help="save a PNG of the page")
    shot.add_argument("url")
    shot.add_argument("--out", required=True)
    shot.add_argument("--width", type=int, default=1280)
    shot.add_argument("--height", type=int, default=800)
    shot.add_argument("--mobile", action="store_true")
    shot.add_argument("--settle", type=float, default=6.0)
    shot.add_argument("--wait", type=float, default=30.0)
    arguments = parser.parse_args()
    try:
        (command_prices if arguments.command == "prices" else command_screenshot)(arguments)
    except BrowserError as error:
        print(f"cdp.py: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
