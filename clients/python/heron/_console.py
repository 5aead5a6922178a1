"""Console capture: sys.stdout / sys.stderr are wrapped so every line still reaches the
terminal and is also recorded in the run's logs."""
from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable

MAX_LINE = 10_000


class _Tee:
    def __init__(self, inner: Any, stream: str, sink: Callable[[str, str, float], None]):
        self._inner = inner
        self._stream = stream
        self._sink = sink
        self._partial = ""
        self._lock = threading.Lock()
        self._local = threading.local()

    def write(self, s: Any) -> Any:
        n = self._inner.write(s)
        if isinstance(s, str) and s and not getattr(self._local, "busy", False):
            self._local.busy = True
            try:
                with self._lock:
                    text = self._partial + s
                    lines = text.split("\n")
                    self._partial = lines.pop()
                    if len(self._partial) > MAX_LINE:
                        lines.append(self._partial)
                        self._partial = ""
                now = int(time.time() * 1000)
                for line in lines:
                    self._sink(self._stream, line.rstrip("\r")[:MAX_LINE], now)
            except Exception:
                pass
            finally:
                self._local.busy = False
        return n

    def flush_partial(self) -> None:
        with self._lock:
            rest, self._partial = self._partial, ""
        if rest:
            self._sink(self._stream, rest[:MAX_LINE], int(time.time() * 1000))

    def flush(self) -> None:
        self._inner.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class ConsoleCapture:
    def __init__(self, sink: Callable[[str, str, float], None]):
        self._sink = sink
        self._out = None
        self._err = None

    def start(self) -> None:
        self._out = _Tee(sys.stdout, "stdout", self._sink)
        self._err = _Tee(sys.stderr, "stderr", self._sink)
        sys.stdout = self._out  # type: ignore[assignment]
        sys.stderr = self._err  # type: ignore[assignment]

    def stop(self) -> None:
        for tee, name in ((self._out, "stdout"), (self._err, "stderr")):
            if tee is None:
                continue
            tee.flush_partial()
            # only unwrap what is still ours (someone may have wrapped it again since)
            if getattr(sys, name) is tee:
                setattr(sys, name, tee._inner)
        self._out = self._err = None
