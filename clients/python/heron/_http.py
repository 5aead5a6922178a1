"""The HTTP API v1 client (urllib only). See PROTOCOL.md."""
from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Optional

from . import __version__

USER_AGENT = f"heron-client-python/{__version__}"


class HeronError(Exception):
    """An error the server answered (status set) or that reaching it raised (status None)."""

    def __init__(self, message: str, status: Optional[int] = None, retry_after: Optional[float] = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def retriable(self) -> bool:
        """network errors, timeouts, 408/425/429 and 5xx are worth another try; other 4xx are not"""
        return self.status is None or self.status in (408, 425, 429) or self.status >= 500


class Client:
    def __init__(self, host: str, api_key: Optional[str] = None, timeout: float = 30.0):
        self.host = host.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def request(self, method: str, path: str, body: Optional[Dict[str, Any]] = None, timeout: Optional[float] = None) -> Dict[str, Any]:
        data = None
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if body is not None:
            data = json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(self.host + path, data=data, method=method, headers=headers)
        t = self.timeout if timeout is None else max(0.05, timeout)
        try:
            with urllib.request.urlopen(req, timeout=t) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            try:
                raw = e.read()
            except Exception:
                raw = b""
            msg = f"HTTP {e.code}"
            try:
                err = json.loads(raw)
                if isinstance(err, dict) and err.get("error"):
                    msg = f"HTTP {e.code}: {err['error']}"
            except ValueError:
                if raw:
                    msg = f"HTTP {e.code}: {raw[:200].decode('utf-8', 'replace')}"
            retry_after = None
            ra = e.headers.get("Retry-After") if e.headers else None
            if ra:
                try:
                    retry_after = float(ra)
                except ValueError:
                    pass
            raise HeronError(msg, status=e.code, retry_after=retry_after) from None
        except (urllib.error.URLError, http.client.HTTPException, socket.timeout, TimeoutError, ConnectionError, OSError) as e:
            reason = getattr(e, "reason", None) or e
            raise HeronError(f"cannot reach {self.host}: {reason}") from None
        if not raw:
            return {}
        try:
            out = json.loads(raw)
        except ValueError:
            raise HeronError(f"{method} {path}: the server answered something that is not JSON", status=502) from None
        return out if isinstance(out, dict) else {"value": out}

    def create_run(self, body: Dict[str, Any], timeout: Optional[float] = None) -> Dict[str, Any]:
        return self.request("POST", "/api/v1/runs", body, timeout)

    def post_batch(self, run_id: str, body: Dict[str, Any], timeout: Optional[float] = None) -> Dict[str, Any]:
        return self.request("POST", f"/api/v1/runs/{urllib.parse.quote(run_id, safe='')}/batches", body, timeout)

    def get_run(self, run_id: str, timeout: Optional[float] = None) -> Dict[str, Any]:
        return self.request("GET", f"/api/v1/runs/{urllib.parse.quote(run_id, safe='')}", None, timeout)


def batch_body(writer: str, batch: Dict[str, Any]) -> Dict[str, Any]:
    """a WAL line (points as [key, step, value, ts] tuples) -> the HTTP body (points as objects)"""
    body: Dict[str, Any] = {"writer": writer, "seq": batch["seq"]}
    pts = batch.get("points")
    if pts:
        body["points"] = [{"key": p[0], "step": p[1], "value": p[2], "ts": p[3]} if isinstance(p, list) else p for p in pts]
    for k in ("texts", "images", "logs", "config", "summary", "environment", "end", "rewind"):
        if batch.get(k):
            body[k] = batch[k]
    return body
