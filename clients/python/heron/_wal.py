"""
The run directory and its write-ahead log, in the layout the TypeScript SDK uses (so
`npx heron sync` reads a Python run too):

    <run dir>/run.json                      what sync needs to create the run on a server
    <run dir>/wal/<writer>.<seq:012d>.jsonl  append-only JSON lines, one sequenced batch a line
    <run dir>/wal/<writer>.meta.json         rank, pid, how the writer ended, what was acked

A batch line: {"seq", "points": [[key, step, value, ts], ...], "texts", "images" (png base64),
"logs", "config", "summary", "environment", "end"}. Every append is fsynced before the batch
is handed to the sender. A torn last line (process killed mid-write) is skipped on read.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import threading
from typing import Any, Dict, Iterator, List, Optional

SEGMENT_BYTES = 8 * 1024 * 1024
SEGMENT_RE = re.compile(r"^(.+)\.(\d{12})\.jsonl$")
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def new_run_id() -> str:
    return "r" + "".join(_ALPHABET[b % 36] for b in secrets.token_bytes(20))


def new_writer_id(rank: int = 0) -> str:
    return f"{rank}-{secrets.token_hex(6)}"


def _write_json(path: str, value: Any) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _read_json(path: str) -> Optional[Dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as f:
            v = json.load(f)
        return v if isinstance(v, dict) else None
    except (OSError, ValueError):
        return None


def write_run_meta(run_dir: str, meta: Dict[str, Any]) -> None:
    _write_json(os.path.join(run_dir, "run.json"), meta)


def read_run_meta(run_dir: str) -> Optional[Dict[str, Any]]:
    return _read_json(os.path.join(run_dir, "run.json"))


_meta_lock = threading.Lock()


def write_writer_meta(run_dir: str, writer: str, meta: Dict[str, Any]) -> None:
    with _meta_lock:
        path = os.path.join(run_dir, "wal", f"{writer}.meta.json")
        merged = dict(_read_json(path) or {})
        merged.update(meta)
        _write_json(path, merged)


def read_writer_meta(run_dir: str, writer: str) -> Optional[Dict[str, Any]]:
    return _read_json(os.path.join(run_dir, "wal", f"{writer}.meta.json"))


def list_writers(run_dir: str) -> List[str]:
    d = os.path.join(run_dir, "wal")
    if not os.path.isdir(d):
        return []
    names = set()
    for f in os.listdir(d):
        m = SEGMENT_RE.match(f)
        if m:
            names.add(m.group(1))
    return sorted(names)


def process_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
        return True
    except PermissionError:
        return True
    except (OSError, ValueError, OverflowError):
        return False


def _fsync_dir(d: str) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the data itself is synced


def _parse_segment(path: str) -> Iterator[Dict[str, Any]]:
    try:
        f = open(path, "rb")
    except OSError:
        return
    with f:
        for raw in f:
            if not raw.endswith(b"\n"):
                break  # torn last line: the process died mid-write; the batch was never acked
            try:
                b = json.loads(raw)
            except ValueError:
                continue
            if isinstance(b, dict) and isinstance(b.get("seq"), int):
                yield b


class WriteAheadLog:
    """One writer's log. Thread-safe; append() returns once the line is on disk (fsync)."""

    def __init__(self, run_dir: str, writer: str, fsync: bool = True):
        self.run_dir = run_dir
        self.writer = writer
        self.dir = os.path.join(run_dir, "wal")
        self.fsync = fsync
        os.makedirs(self.dir, exist_ok=True)
        self._lock = threading.Lock()
        self._fd: Optional[int] = None
        self._bytes = 0
        # (path, first seq, last seq) of each segment, in order
        self._segments: List[List[Any]] = []
        for f in sorted(os.listdir(self.dir)):
            m = SEGMENT_RE.match(f)
            if not m or m.group(1) != writer:
                continue
            path = os.path.join(self.dir, f)
            first = int(m.group(2))
            last = first - 1
            for b in _parse_segment(path):
                last = max(last, b["seq"])
            self._segments.append([path, first, last])

    def last_seq(self) -> int:
        with self._lock:
            return max((s[2] for s in self._segments), default=0)

    def append(self, batch: Dict[str, Any]) -> int:
        line = (json.dumps(batch, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")
        with self._lock:
            seq = batch["seq"]
            if self._fd is None or self._bytes >= SEGMENT_BYTES:
                self._close_fd()
                # a new writer process (or sync appending an end) always starts a new segment:
                # it never appends behind a torn line another process left
                path = os.path.join(self.dir, f"{self.writer}.{seq:012d}.jsonl")
                self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                self._bytes = 0
                self._segments.append([path, seq, seq - 1])
                _fsync_dir(self.dir)
            view = memoryview(line)
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
            if self.fsync:
                (getattr(os, "fdatasync", None) or os.fsync)(self._fd)
            self._bytes += len(line)
            self._segments[-1][2] = max(self._segments[-1][2], seq)
        return len(line)

    def read(self, after_seq: int = 0, upto_seq: Optional[int] = None, max_batches: Optional[int] = None) -> List[Dict[str, Any]]:
        """batches with after_seq < seq <= upto_seq, in seq order, each once"""
        with self._lock:
            segs = [list(s) for s in self._segments]
        out: Dict[int, Dict[str, Any]] = {}
        for path, first, last in segs:
            if last <= after_seq or (upto_seq is not None and first > upto_seq):
                continue
            for b in _parse_segment(path):
                s = b["seq"]
                if s > after_seq and (upto_seq is None or s <= upto_seq) and s not in out:
                    out[s] = b
            if max_batches is not None and len(out) >= max_batches:
                # segments are in seq order: what a later one holds comes after
                break
        seqs = sorted(out)
        if max_batches is not None:
            seqs = seqs[:max_batches]
        return [out[s] for s in seqs]

    def close(self) -> None:
        with self._lock:
            self._close_fd()

    def _close_fd(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None
