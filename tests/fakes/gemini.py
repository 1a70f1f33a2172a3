"""A local fake of the Gemini API for tests (no network): ``http.server`` in a thread on 127.0.0.1.

Drive it through the real ``google-genai`` SDK with ``base_url=fake.base_url`` and ``api_version="v1beta"``; the SDK
posts to ``/v1beta/models/<model>:generateContent``. Script the answers, then inspect what was sent::

    def test_something(fake_gemini):
        fake_gemini.script(error(429), answer("Fill rate is 97.3%."))
        provider = GeminiProvider(api_key="test", base_url=fake_gemini.base_url, sleep=lambda s: None)
        ...
        assert fake_gemini.requests[-1].model == "gemini-2.5-flash"

A scripted item is ``(status, body)`` (body: dict -> JSON, str / bytes -> raw), a ``Delay`` (wait, then answer -
for timeouts), or a callable ``f(request) -> item``. When the script runs out, the ``default`` item is served
(an ``answer("OK.")`` unless changed). Other test files use the fixture by importing it::

    from tests.fakes.gemini import fake_gemini  # noqa: F401  (or list the module in pytest_plugins)
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

Body = dict[str, Any] | list[Any] | str | bytes


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        """The body parsed as JSON (None if it is not JSON)."""
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    @property
    def model(self) -> str | None:
        """The model id of a ``/models/<model>:<method>`` path."""
        if "/models/" not in self.path:
            return None
        return self.path.split("/models/", 1)[1].split(":", 1)[0]

    @property
    def user_text(self) -> str:
        """All text parts of ``contents`` joined (what the user message said)."""
        data = self.json or {}
        return "\n".join(
            part.get("text", "") for content in data.get("contents", []) for part in content.get("parts", [])
        )

    @property
    def system_text(self) -> str:
        """All text parts of ``systemInstruction`` joined."""
        data = self.json or {}
        return "\n".join(part.get("text", "") for part in (data.get("systemInstruction") or {}).get("parts", []))


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` (released early when the server stops), then serve ``then``."""

    seconds: float
    then: tuple[int, Body] = field(default_factory=lambda: answer("Late."))


Item = tuple[int, Body] | Delay | Callable[[RecordedRequest], Any]


def answer(text: str, *, finish_reason: str = "STOP") -> tuple[int, dict[str, Any]]:
    """A 200 ``generateContent`` answer with one text part."""
    return 200, {
        "candidates": [
            {"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": finish_reason, "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 10, "totalTokenCount": 20},
        "modelVersion": "fake",
    }


def empty_answer() -> tuple[int, dict[str, Any]]:
    """A 200 answer whose candidate has no text part."""
    return 200, {"candidates": [{"content": {"parts": [], "role": "model"}, "finishReason": "STOP", "index": 0}]}


_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def error(code: int, message: str = "fake error", *, retry_delay_s: float | None = None) -> tuple[int, dict[str, Any]]:
    """A Google-style error answer (``{"error": {"code", "message", "status", "details"}}``)."""
    details = []
    if retry_delay_s is not None:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_delay_s:g}s"})
    status = _STATUS_NAMES.get(code, "UNKNOWN")
    return code, {"error": {"code": code, "message": message, "status": status, "details": details}}


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True  # 48 ms per call otherwise (delayed ACK), ~1.5 ms with it
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        return

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = RecordedRequest(self.command, self.path, dict(self.headers.items()), body)
        fake = self.server.fake
        item = fake._next(request)
        while True:
            if callable(item) and not isinstance(item, Delay):
                item = item(request)
            elif isinstance(item, Delay):
                fake._released.wait(item.seconds)
                item = item.then
            else:
                break
        status, payload = item
        if isinstance(payload, bytes):
            data, content_type = payload, "application/octet-stream"
        elif isinstance(payload, str):
            data, content_type = payload.encode("utf-8"), "text/plain; charset=utf-8"
        else:
            data, content_type = json.dumps(payload).encode("utf-8"), "application/json; charset=UTF-8"
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            self.close_connection = True

    do_POST = _serve
    do_GET = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeGemini


class FakeGemini:
    """The fake server. Use as a context manager or through the ``fake_gemini`` fixture."""

    def __init__(self, *, default: Item | None = None) -> None:
        self.requests: list[RecordedRequest] = []
        self.default: Item = default if default is not None else answer("OK.")
        self._script: deque[Item] = deque()
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (pass to the SDK with api_version "v1beta")."""
        if self._server is None:
            raise RuntimeError("FakeGemini is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *items: Item) -> FakeGemini:
        """Append answers to serve in order (then ``default``)."""
        with self._lock:
            self._script.extend(items)
        return self

    @property
    def pending(self) -> int:
        """Scripted answers not served yet."""
        with self._lock:
            return len(self._script)

    def _next(self, request: RecordedRequest) -> Item:
        with self._lock:
            self.requests.append(request)
            return self._script.popleft() if self._script else self.default

    def start(self) -> FakeGemini:
        """Bind an ephemeral port on 127.0.0.1 and serve in a daemon thread."""
        self._released.clear()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-gemini", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release any delayed answers, stop serving and close the socket."""
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeGemini:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def fake_gemini() -> Iterator[FakeGemini]:
    """A started ``FakeGemini``; stopped after the test."""
    with FakeGemini() as fake:
        yield fake
