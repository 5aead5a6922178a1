"""Uploading a run directory (an offline run, or one whose process died or finished with the
server down). Idempotent: the server says how far it has each writer's batches, only the rest
is sent, and a second sync sends nothing."""
from __future__ import annotations

import os
import time
from typing import Any, Dict, List, Optional

from . import _wal
from ._http import Client, HeronError
from ._sender import Sender, warn


def _init_body(meta: Dict[str, Any], rank: int) -> Dict[str, Any]:
    body: Dict[str, Any] = {"project": meta["project"], "id": meta["id"], "resume": "allow", "sync": True, "rank": rank}
    for k in ("name", "tags", "group", "notes", "environment", "startedAt"):
        if meta.get(k) is not None:
            body[k] = meta[k]
    if rank == 0 and meta.get("config"):
        body["config"] = meta["config"]
    return body


def sync_writer(run_dir: str, writer: str, client: Client, timeout: float = 600.0, drop_end: bool = False,
                add_crashed_end: bool = True, quiet: bool = False) -> Dict[str, Any]:
    meta = _wal.read_run_meta(run_dir)
    if not meta:
        raise HeronError(f"{run_dir} is not a Heron run directory (no run.json)")
    wmeta = _wal.read_writer_meta(run_dir, writer) or {}
    rank = int(wmeta.get("rank") or 0)
    wal = _wal.WriteAheadLog(run_dir, writer)
    try:
        ended = wmeta.get("state")
        if not ended and add_crashed_end:
            # killed without finishing: end it as crashed, or the run would stay "running" forever
            wal.append({"seq": wal.last_seq() + 1, "end": {"state": "crashed", "error": "the process ended without finishing the run (uploaded by heron sync)"}})
            ended = "crashed"
            _wal.write_writer_meta(run_dir, writer, {"rank": rank, "state": ended, "endedAt": int(time.time() * 1000)})
        last = wal.last_seq()
        acked_before = int(wmeta.get("ackedSeq") or 0)
        if acked_before >= last:
            return {"writer": writer, "sent": 0, "endedAs": ended}
        sender = Sender(client, meta["id"], writer, _init_body(meta, rank), wal, drop_end=drop_end, request_timeout=min(30.0, timeout))
        sender.set_last_enqueued(last)
        sender.deadline = time.monotonic() + timeout
        sender.start()
        ok = sender.wait_acked(last, timeout)
        sender.stop()
        first_acked = (sender.init_result or {}).get("lastSeq")
        if not ok:
            why = sender.fatal or sender.last_error or "no answer in time"
            raise HeronError(f"writer {writer}: {last - sender.acked} batches not acknowledged ({why}); run sync again")
        _wal.write_writer_meta(run_dir, writer, {"ackedSeq": sender.acked})
        sent = last - (first_acked if isinstance(first_acked, int) else 0)
        return {"writer": writer, "sent": max(0, sent), "endedAs": ended, "url": (sender.init_result or {}).get("url")}
    finally:
        wal.close()


def run_dirs(path: str) -> List[str]:
    """a run directory, or a directory of run directories"""
    if os.path.isfile(os.path.join(path, "run.json")):
        return [path]
    if not os.path.isdir(path):
        raise HeronError(f"{path} does not exist")
    out = sorted(os.path.join(path, d) for d in os.listdir(path) if os.path.isfile(os.path.join(path, d, "run.json")))
    if not out:
        raise HeronError(f"{path} is not a Heron run directory (no run.json), nor a directory of them")
    return out


def sync_run_dir(run_dir: str, host: Optional[str] = None, api_key: Optional[str] = None, timeout: float = 600.0) -> Dict[str, Any]:
    meta = _wal.read_run_meta(run_dir)
    if not meta:
        raise HeronError(f"{run_dir} is not a Heron run directory (no run.json)")
    host = (host or os.environ.get("HERON_HOST") or meta.get("host") or "http://127.0.0.1:3000").rstrip("/")
    api_key = api_key if api_key is not None else os.environ.get("HERON_API_KEY")
    client = Client(host, api_key, timeout=min(30.0, timeout))
    result: Dict[str, Any] = {"runId": meta["id"], "url": None, "writers": []}
    for writer in _wal.list_writers(run_dir):
        wmeta = _wal.read_writer_meta(run_dir, writer) or {}
        if _wal.process_alive(wmeta.get("pid")) and not wmeta.get("state"):
            result["writers"].append({"writer": writer, "sent": 0, "skipped": f"process {wmeta.get('pid')} is still logging to it"})
            continue
        r = sync_writer(run_dir, writer, client, timeout=timeout)
        result["url"] = r.pop("url", None) or result["url"]
        result["writers"].append(r)
    if result["url"] is None:
        result["url"] = f"{host}/runs/{meta['id']}"
    return result


def sync(path: str, host: Optional[str] = None, api_key: Optional[str] = None, timeout: float = 600.0) -> List[Dict[str, Any]]:
    return [sync_run_dir(d, host=host, api_key=api_key, timeout=timeout) for d in run_dirs(path)]
