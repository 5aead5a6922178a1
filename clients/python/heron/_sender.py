"""
The background sender: uploads one writer's batches in seq order, exactly once.

It creates (or resumes) the run with POST /api/v1/runs, learns the server's lastSeq for this
writer, and then sends seq lastSeq+1, +2, ... one POST each, retrying each batch with capped
exponential backoff until it is acknowledged. A batch the server already has is acknowledged
again and not stored twice, so a retry after a lost answer is harmless.
"""
from __future__ import annotations

import random
import sys
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Dict, Optional

from ._http import Client, HeronError, batch_body
from ._wal import WriteAheadLog

MEMORY_BYTES = 64 * 1024 * 1024


def warn(msg: str) -> None:
    try:
        stream = getattr(sys, "__stderr__", None) or sys.stderr
        stream.write(f"[heron] {msg}\n")
        stream.flush()
    except Exception:
        pass


class Sender(threading.Thread):
    def __init__(
        self,
        client: Client,
        run_id: str,
        writer: str,
        init_body: Dict[str, Any],
        wal: WriteAheadLog,
        backoff_base: float = 0.25,
        backoff_max: float = 10.0,
        on_init: Optional[Callable[[Dict[str, Any]], None]] = None,
        drop_end: bool = False,
        request_timeout: float = 30.0,
    ):
        super().__init__(name=f"heron-sender-{writer}", daemon=True)
        self.client = client
        self.run_id = run_id
        self.writer = writer
        self.init_body = dict(init_body, writer=writer)
        self.wal = wal
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.on_init = on_init
        self.drop_end = drop_end
        self.request_timeout = request_timeout
        self._cv = threading.Condition()
        self._mem: "OrderedDict[int, Dict[str, Any]]" = OrderedDict()
        self._mem_bytes = 0
        self._stop = False
        self.acked = 0
        self.last_enqueued = 0
        self.init_result: Optional[Dict[str, Any]] = None
        self.fatal: Optional[HeronError] = None
        self.last_error: Optional[str] = None
        self.initialized = threading.Event()  # set on the first answer (ok or fatal)
        self.deadline: Optional[float] = None  # finish(): no request may outlast it
        self._failures = 0

    # ---- called by the training thread ----
    def enqueue(self, batch: Dict[str, Any], nbytes: int) -> None:
        with self._cv:
            seq = batch["seq"]
            self.last_enqueued = max(self.last_enqueued, seq)
            if self._mem_bytes + nbytes <= MEMORY_BYTES:
                self._mem[seq] = (batch, nbytes)  # type: ignore[assignment]
                self._mem_bytes += nbytes
            # else: only on disk; the sender reads it back from the WAL when its turn comes
            self._cv.notify_all()

    def set_last_enqueued(self, seq: int) -> None:
        with self._cv:
            self.last_enqueued = max(self.last_enqueued, seq)
            self._cv.notify_all()

    def wait_acked(self, seq: int, timeout: Optional[float]) -> bool:
        end = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            while self.acked < seq and self.fatal is None and self.is_alive():
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._cv.wait(0.05 if left is None else min(0.05, left))
            return self.acked >= seq

    def stop(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()

    # ---- the thread ----
    def _sleep(self, seconds: float) -> bool:
        """waits; False when stopped meanwhile"""
        end = time.monotonic() + seconds
        with self._cv:
            while not self._stop:
                left = end - time.monotonic()
                if left <= 0:
                    return True
                self._cv.wait(left)
        return False

    def _backoff(self, err: HeronError) -> bool:
        self._failures += 1
        self.last_error = str(err)
        delay = min(self.backoff_max, self.backoff_base * (2 ** min(self._failures - 1, 30)))
        delay = delay * (0.5 + random.random() / 2)
        if err.retry_after is not None:
            delay = max(delay, min(err.retry_after, self.backoff_max))
        if self._failures == 3:
            warn(f"{err}; retrying in the background (the data is safe in {self.wal.run_dir})")
        return self._sleep(delay)

    def _timeout(self) -> float:
        t = self.request_timeout
        if self.deadline is not None:
            t = min(t, max(0.05, self.deadline - time.monotonic()))
        return t

    def _next_batch(self) -> Optional[Dict[str, Any]]:
        seq = self.acked + 1
        with self._cv:
            while not self._stop and seq > self.last_enqueued:
                self._cv.wait(1.0)
            if self._stop:
                return None
            for s in [s for s in self._mem if s < seq]:
                _, n = self._mem.pop(s)  # type: ignore[misc]
                self._mem_bytes -= n
            entry = self._mem.get(seq)
        if entry is not None:
            return entry[0]  # type: ignore[index]
        got = self.wal.read(seq - 1, None, 1)
        if got and got[0]["seq"] == seq:
            return got[0]
        if got:
            # a gap in the log (cannot happen unless files were removed): skip ahead
            warn(f"batches {seq}..{got[0]['seq'] - 1} are missing from {self.wal.dir}; skipping them")
            return got[0]
        return None

    def run(self) -> None:
        try:
            self._loop()
        except Exception as e:  # never kill training over the sender
            self.fatal = HeronError(f"sender crashed: {e!r}")
            warn(str(self.fatal))
        finally:
            with self._cv:
                self._cv.notify_all()
            self.initialized.set()

    def _loop(self) -> None:
        while not self._stop:
            if self.init_result is None:
                try:
                    res = self.client.create_run(self.init_body, timeout=self._timeout())
                except HeronError as e:
                    if not e.retriable:
                        self.fatal = e
                        self.initialized.set()
                        warn(f"the server refused the run: {e}")
                        return
                    if not self._backoff(e):
                        return
                    continue
                self._failures = 0
                self.init_result = res
                last = res.get("lastSeq")
                with self._cv:
                    # the server's word: what it has of this writer (below our acked only if it lost some)
                    self.acked = int(last) if isinstance(last, int) else 0
                    self._cv.notify_all()
                if self.on_init:
                    try:
                        self.on_init(res)
                    except Exception:
                        pass
                self.initialized.set()
                continue
            batch = self._next_batch()
            if batch is None:
                continue
            body = batch_body(self.writer, batch)
            if self.drop_end:
                body.pop("end", None)
            try:
                res = self.client.post_batch(self.run_id, body, timeout=self._timeout())
            except HeronError as e:
                if e.status == 404:
                    self.init_result = None  # the server does not know the run (yet): create it again
                    if not self._backoff(e):
                        return
                    continue
                if e.status in (401, 403):
                    self.fatal = e
                    warn(f"the server refused batch {body['seq']}: {e}")
                    return
                if not e.retriable:
                    # a batch the server will never take: keep the sequence going without its data
                    warn(f"the server refused batch {body['seq']} ({e}); its data stays only in {self.wal.dir}")
                    body = {"writer": self.writer, "seq": body["seq"]}
                    if batch.get("end") and not self.drop_end:
                        body["end"] = batch["end"]
                    try:
                        res = self.client.post_batch(self.run_id, body, timeout=self._timeout())
                    except HeronError as e2:
                        if not e2.retriable:
                            self.fatal = e2
                            return
                        if not self._backoff(e2):
                            return
                        continue
                elif not self._backoff(e):
                    return
                else:
                    continue
            self._failures = 0
            ack = res.get("ackSeq")
            ack = int(ack) if isinstance(ack, int) else body["seq"]
            with self._cv:
                if ack >= body["seq"]:
                    self.acked = max(self.acked, ack)
                else:
                    # the server is behind what it acked before (restored?): send again from there
                    self.acked = ack
                self._cv.notify_all()
            if ack < body["seq"] and not self._sleep(self.backoff_base):
                return
