"""A tiny in-process Heron API v1 server (http.server) for the client's tests: it keeps the
points it stored, applies the writer+seq exactly-once rule, and can be told to fail."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional


class FakeHeron:
    def __init__(self, key: Optional[str] = "hk_test", port: int = 0):
        self.key = key
        self.lock = threading.Lock()
        self.runs: Dict[str, Dict[str, Any]] = {}
        self.acked: Dict[tuple, int] = {}  # (runId, writer) -> seq
        self.points: Dict[str, List[Dict[str, Any]]] = {}
        self.batches: Dict[str, List[Dict[str, Any]]] = {}
        self.requests: List[tuple] = []
        # test knobs
        self.fail_next = 0  # answer 503 to the next N requests
        self.drop_answer_next = 0  # store the next N batches but close the connection before answering
        self.delay = 0.0
        self.down = False  # answer 503 to everything
        self.reject_seq: Optional[int] = None  # answer 400 to a batch with this seq that has points
        self._server: Optional[ThreadingHTTPServer] = None
        self._port = port

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FakeHeron":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def _send(self, code: int, body: Dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                import time

                if fake.delay:
                    time.sleep(fake.delay)
                with fake.lock:
                    fake.requests.append((method, self.path))
                    if fake.down:
                        return self._send(503, {"error": "down"})
                    if fake.fail_next > 0:
                        fake.fail_next -= 1
                        return self._send(503, {"error": "try again"})
                if fake.key and self.headers.get("Authorization") != f"Bearer {fake.key}":
                    return self._send(401, {"error": "bad key"})
                body = json.loads(raw) if raw else None
                parts = self.path.split("/")
                with fake.lock:
                    if method == "POST" and self.path == "/api/v1/runs":
                        return self._send(200, fake.create(body))
                    if method == "POST" and len(parts) == 6 and parts[5] == "batches":
                        run_id = parts[4]
                        if run_id not in fake.runs:
                            return self._send(404, {"error": "no such run"})
                        if fake.reject_seq is not None and body["seq"] == fake.reject_seq and body.get("points"):
                            return self._send(400, {"error": "bad batch"})
                        res = fake.ingest(run_id, body)
                        if fake.drop_answer_next > 0:
                            fake.drop_answer_next -= 1
                            self.close_connection = True
                            self.connection.shutdown(2)
                            return
                        return self._send(200, res)
                    if method == "GET" and len(parts) == 5 and parts[4] in fake.runs:
                        return self._send(200, fake.runs[parts[4]])
                self._send(404, {"error": "not found"})

            def do_POST(self) -> None:
                self._handle("POST")

            def do_GET(self) -> None:
                self._handle("GET")

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- the server's rules ---
    def create(self, body: Dict[str, Any]) -> Dict[str, Any]:
        run_id = body.get("id") or f"run{len(self.runs) + 1}"
        resumed = run_id in self.runs
        if not resumed:
            self.runs[run_id] = {"id": run_id, "project": body["project"], "status": "running", "config": dict(body.get("config") or {}),
                                 "summary": {}, "name": body.get("name"), "tags": body.get("tags"), "environment": body.get("environment")}
            self.points[run_id] = []
            self.batches[run_id] = []
        elif not body.get("sync"):
            self.runs[run_id]["status"] = "running"
        steps = [p["step"] for p in self.points[run_id]]
        return {"runId": run_id, "projectId": "p1", "resumed": resumed, "lastSeq": self.acked.get((run_id, body["writer"]), 0),
                "lastStep": max(steps) if steps else None, "url": f"{self.url}/runs/{run_id}", "status": self.runs[run_id]["status"]}

    def ingest(self, run_id: str, body: Dict[str, Any]) -> Dict[str, Any]:
        k = (run_id, body["writer"])
        acked = self.acked.get(k, 0)
        if body["seq"] <= acked:
            return {"ackSeq": acked, "written": 0}
        if body["seq"] != acked + 1:
            return {"ackSeq": acked, "written": 0}  # a gap: the client sends from acked + 1
        self.acked[k] = body["seq"]
        self.batches[run_id].append(body)
        pts = body.get("points") or []
        self.points[run_id].extend(pts)
        run = self.runs[run_id]
        run["config"].update(body.get("config") or {})
        run["summary"].update(body.get("summary") or {})
        if body.get("end"):
            run["status"] = body["end"]["state"]
        return {"ackSeq": body["seq"], "written": len(pts)}
