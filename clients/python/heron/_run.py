"""Run: what heron.init() returns. Logging appends to an in-memory batch; a batch is written
to the run's write-ahead log (fsynced) every flush_interval seconds, when it is full, and at
finish, and only then handed to the background sender."""
from __future__ import annotations

import atexit
import json
import os
import re
import shlex
import signal
import sys
import threading
import time
import traceback
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import _wal
from ._console import ConsoleCapture
from ._env import capture_environment
from ._http import Client, HeronError
from ._png import to_png
from ._sender import Sender, warn
from ._values import MAX_KEY, encode_float, flatten, json_safe, to_number

PROJECT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_STEP = 2 ** 53 - 1
DEFAULT_HOST = "http://127.0.0.1:3000"
DEFAULT_FINISH_TIMEOUT = 30.0
JOB_FINISH_TIMEOUT = 600.0
MAX_BATCH_LOGS = 4000
MAX_BATCH_IMAGES = 50
MAX_BATCH_IMAGE_BYTES = 8 * 1024 * 1024
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_BATCH_TEXT_ROWS = 5000


def sync_command(run_dir: str) -> str:
    return f"python -m heron sync {shlex.quote(run_dir)}"


def default_base_dir() -> str:
    return os.path.join(os.environ.get("HERON_HOME", ".heron"), "runs")


class _Tracked(dict):
    """a dict whose changes are sent with the next batch (run.config, run.summary)"""

    def __init__(self, run: "Run", kind: str, initial: Optional[Dict[str, Any]] = None):
        super().__init__(initial or {})
        self._run = run
        self._kind = kind

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self._run._changed(self._kind, {key: value})

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        d = dict(*args, **kwargs)
        super().update(d)
        if d:
            self._run._changed(self._kind, d)

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self[name] = value


class Config(_Tracked):
    pass


class Summary(_Tracked):
    pass


class Run:
    def __init__(
        self,
        *,
        id: str,
        project: str,
        name: Optional[str],
        mode: str,
        run_dir: Optional[str],
        host: str,
        wal: Optional[_wal.WriteAheadLog],
        writer: str,
        sender: Optional[Sender],
        config: Dict[str, Any],
        last_step: Optional[int],
        flush_interval: float,
        flush_points: int,
        finish_timeout: float,
        capture_console: bool,
        capture_system: bool,
        system_interval: float,
        url: str,
        first_seq: int,
    ):
        self.id = id
        self.project = project
        self.name = name
        self.mode = mode
        self.dir = run_dir
        self.host = host
        self.url = url
        self.writer = writer
        self._wal = wal
        self._sender = sender
        self._lock = threading.RLock()
        self._seq = first_seq  # the last seq written
        self._next_step = 0 if last_step is None else last_step + 1
        self._last_step: Optional[int] = last_step
        self._points: List[list] = []
        self._texts: List[Dict[str, Any]] = []
        self._text_rows = 0
        self._images: List[Dict[str, Any]] = []
        self._image_bytes = 0
        self._logs: List[Dict[str, Any]] = []
        self._deltas: Dict[str, Dict[str, Any]] = {}
        self._warned: set = set()
        self._flush_interval = flush_interval
        self._flush_points = max(1, min(int(flush_points), 50_000))
        self._finish_timeout = finish_timeout
        self._finished = False
        self._stop = threading.Event()
        self.config = Config(self, "config", config)
        self.summary = Summary(self, "summary")
        self._console: Optional[ConsoleCapture] = None
        self._system = None
        self._system_interval = system_interval
        self._flusher: Optional[threading.Thread] = None
        self._atexit_registered = False
        self._prev_excepthook = None
        self._prev_sigterm: Any = None
        self._exit_state: Tuple[str, Optional[str]] = ("finished", None)
        if mode == "disabled":
            return
        if capture_system:
            from . import _system

            if _system.available():
                self._system = _system.SystemMetrics()
        if capture_console:
            self._console = ConsoleCapture(self._on_console)
            self._console.start()
        self._flusher = threading.Thread(target=self._flush_loop, name="heron-flush", daemon=True)
        self._flusher.start()

    # ---------------- public API ----------------
    @property
    def step(self) -> int:
        """the step the next heron.log() without step= gets"""
        return self._next_step

    @property
    def finished(self) -> bool:
        return self._finished

    def log(self, data: Dict[str, Any], step: Optional[int] = None, commit: bool = True) -> None:
        """Log scalars ({"loss": 0.1, "acc": {"train": 0.9}} -> keys loss, acc/train). step
        defaults to one past the previous step; commit=False keeps the step for the next call."""
        if self.mode == "disabled":
            return
        if not isinstance(data, dict):
            raise TypeError("heron.log takes a dict of values")
        self._check_open()
        ts = int(time.time() * 1000)
        with self._lock:
            s = self._take_step(step, advance=commit)
            for key, v in flatten(data):
                if not key or len(key) > MAX_KEY:
                    self._warn_once(("key", key), f"skipping the metric key {key[:40]!r}: a key has 1 to {MAX_KEY} characters")
                    continue
                n = to_number(v)
                if n is None:
                    self._warn_once(("type", key), f"skipping {key!r}: heron.log takes numbers, not {type(v).__name__} (use run.log_text / run.log_image)")
                    continue
                self._points.append([key, s, encode_float(n), ts])
            full = len(self._points) >= self._flush_points
        if full:
            self.flush()

    def log_text(self, key: str, text: Union[str, Sequence[Any]], step: Optional[int] = None, caption: Optional[str] = None) -> None:
        """a text (or a list of texts, or of (text, caption) pairs) under key at step"""
        if self.mode == "disabled":
            return
        self._check_open()
        if isinstance(text, str):
            rows = [{"text": text, **({"caption": caption} if caption else {})}]
        else:
            rows = []
            for r in text:
                if isinstance(r, (tuple, list)) and len(r) == 2:
                    rows.append({"text": str(r[0]), **({"caption": str(r[1])} if r[1] else {})})
                else:
                    rows.append({"text": str(r)})
        if not rows:
            return
        rows = [dict(r, text=r["text"][:100_000]) for r in rows[:1000]]
        with self._lock:
            s = self._take_step(step, advance=False, media=True)
            self._texts.append({"key": key, "step": s, "rows": rows, "ts": int(time.time() * 1000)})
            self._text_rows += len(rows)
            full = self._text_rows >= MAX_BATCH_TEXT_ROWS or len(self._texts) >= 500
        if full:
            self.flush()

    def log_image(self, key: str, image: Any, step: Optional[int] = None, caption: Optional[str] = None) -> None:
        """an image under key at step: PNG bytes, a .png path, a numpy array (HxW, HxWxC, CxHxW;
        uint8 or floats in [0, 1]), a torch tensor or a PIL image"""
        if self.mode == "disabled":
            return
        self._check_open()
        import base64

        png, w, h = to_png(image)
        if len(png) > MAX_IMAGE_BYTES:
            raise ValueError(f"an image may be at most {MAX_IMAGE_BYTES} bytes as PNG, this one is {len(png)}")
        with self._lock:
            s = self._take_step(step, advance=False, media=True)
            rec: Dict[str, Any] = {"key": key, "step": s, "width": w, "height": h, "png": base64.b64encode(png).decode("ascii"), "ts": int(time.time() * 1000)}
            if caption:
                rec["caption"] = str(caption)[:1000]
            if self._image_bytes + len(png) > MAX_BATCH_IMAGE_BYTES and self._images:
                self._flush_locked()
            self._images.append(rec)
            self._image_bytes += len(png)
            full = len(self._images) >= MAX_BATCH_IMAGES or self._image_bytes >= MAX_BATCH_IMAGE_BYTES
        if full:
            self.flush()

    def flush(self) -> None:
        """write what is buffered to the log now (the sender uploads it in the background)"""
        if self.mode == "disabled":
            return
        with self._lock:
            self._flush_locked()

    def finish(self, state: str = "finished", error: Optional[str] = None, timeout: Optional[float] = None, quiet: bool = False) -> bool:
        """Ends the run. Waits at most `timeout` seconds (default 30; 10 min inside a Heron job)
        for the server to acknowledge everything; what it did not is left in the run's directory,
        and one line says the command that uploads it. True when everything arrived (or, offline,
        was written)."""
        if state not in ("finished", "crashed", "aborted"):
            raise ValueError('state must be "finished", "crashed" or "aborted"')
        with self._lock:
            if self._finished:
                return True
            self._finished = True
        _unset_current(self)
        self._detach_hooks()
        if self.mode == "disabled":
            return True
        t = self._finish_timeout if timeout is None else max(0.0, float(timeout))
        deadline = time.monotonic() + t
        self._stop.set()
        if self._flusher and self._flusher is not threading.current_thread():
            self._flusher.join(timeout=min(1.0, t))
        if self._console:
            self._console.stop()
        end: Dict[str, Any] = {"state": state}
        if error:
            end["error"] = str(error)[:20_000]
        with self._lock:
            self._flush_locked(end=end)
            last = self._seq
        assert self.dir is not None and self._wal is not None
        meta: Dict[str, Any] = {"state": state, "endedAt": int(time.time() * 1000)}
        if self._last_step is not None:
            meta["lastStep"] = self._last_step
        ok = True
        stream = sys.stderr
        if self._sender is not None:
            self._sender.deadline = deadline
            ok = self._sender.wait_acked(last, max(0.0, deadline - time.monotonic()))
            self._sender.stop()
            meta["ackedSeq"] = self._sender.acked
            if not ok and not quiet:
                why = self._sender.fatal or self._sender.last_error or "no answer in time"
                left = last - self._sender.acked
                print(f"[heron] {left} batch{'es' if left != 1 else ''} of run {self.id} not uploaded ({why}); kept in {self.dir} — upload with: {sync_command(self.dir)}", file=stream, flush=True)
        elif not quiet:
            print(f"[heron] offline run {self.id} saved in {self.dir} — upload with: {sync_command(self.dir)}", file=stream, flush=True)
        try:
            _wal.write_writer_meta(self.dir, self.writer, meta)
        except OSError:
            pass
        self._wal.close()
        return ok

    # ---------------- internals ----------------
    def _check_open(self) -> None:
        if self._finished:
            raise RuntimeError(f"run {self.id} is finished; call heron.init() for a new one")

    def _warn_once(self, what: Any, msg: str) -> None:
        if what not in self._warned:
            self._warned.add(what)
            warn(msg)

    def _take_step(self, step: Optional[int], advance: bool, media: bool = False) -> int:
        """log(): no step -> the next one (advanced unless commit=False); step=s -> s, and the
        next log() without step gets s+1. Texts/images without step go to the latest step."""
        if step is None:
            if media:
                s = self._last_step if self._last_step is not None else self._next_step
            else:
                s = self._next_step
                if advance:
                    self._next_step = s + 1
        else:
            if isinstance(step, bool) or not isinstance(step, int):
                n = to_number(step)
                if n is None or not float(n).is_integer():
                    raise TypeError(f"step must be an integer, not {step!r}")
                step = int(n)
            if step < 0 or step > MAX_STEP:
                raise ValueError("step must be between 0 and 2^53 - 1")
            s = step
            if not media:
                self._next_step = max(self._next_step, s + 1 if advance else s)
        self._last_step = s if self._last_step is None else max(self._last_step, s)
        return s

    def _changed(self, kind: str, delta: Dict[str, Any]) -> None:
        if self.mode == "disabled" or self._finished:
            return
        with self._lock:
            self._deltas.setdefault(kind, {}).update(json_safe(delta))

    def _on_console(self, stream: str, line: str, ts: float) -> None:
        with self._lock:
            if self._finished and self._wal is None:
                return
            self._logs.append({"stream": stream, "line": line, "ts": ts})
            full = len(self._logs) >= MAX_BATCH_LOGS
        if full:
            self.flush()

    def _flush_locked(self, end: Optional[Dict[str, Any]] = None) -> None:
        if not (self._points or self._texts or self._images or self._logs or self._deltas or end):
            return
        if self._wal is None:
            return
        seq = self._seq + 1
        batch: Dict[str, Any] = {"seq": seq}
        if self._points:
            batch["points"] = self._points
        if self._texts:
            batch["texts"] = self._texts
        if self._images:
            batch["images"] = self._images
        if self._logs:
            batch["logs"] = self._logs
        for kind, d in self._deltas.items():
            batch[kind] = d
        if end:
            batch["end"] = end
        try:
            nbytes = self._wal.append(batch)
        except OSError as e:
            self._warn_once("wal", f"cannot write the run's log in {self.dir}: {e}; data since the last write is kept in memory")
            return
        self._seq = seq
        self._points, self._texts, self._images, self._logs, self._deltas = [], [], [], [], {}
        self._text_rows = self._image_bytes = 0
        if self._sender is not None:
            self._sender.enqueue(batch, nbytes)

    def _flush_loop(self) -> None:
        next_sys = time.monotonic()
        while not self._stop.wait(self._flush_interval):
            try:
                if self._system is not None and time.monotonic() >= next_sys:
                    next_sys = time.monotonic() + self._system_interval
                    sample = self._system.sample()
                    if sample:
                        ts = int(time.time() * 1000)
                        with self._lock:
                            s = self._last_step if self._last_step is not None else 0
                            self._points.extend([k, s, encode_float(v), ts] for k, v in sample.items())
                self.flush()
            except Exception as e:  # never let the background thread die silently
                self._warn_once("flush", f"background flush failed: {e!r}")

    # ---- process hooks: finish on exit, crashed on an uncaught exception, aborted on SIGTERM ----
    def _attach_hooks(self) -> None:
        atexit.register(self._atexit)
        self._atexit_registered = True
        self._prev_excepthook = sys.excepthook

        def hook(tp: Any, value: Any, tb: Any) -> None:
            if issubclass(tp, KeyboardInterrupt):
                self._exit_state = ("aborted", "KeyboardInterrupt")
            else:
                self._exit_state = ("crashed", "".join(traceback.format_exception(tp, value, tb))[-20_000:])
            (self._prev_excepthook or sys.__excepthook__)(tp, value, tb)

        sys.excepthook = hook
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
                    self._prev_sigterm = signal.SIG_DFL
                    signal.signal(signal.SIGTERM, self._on_sigterm)
            except (ValueError, OSError, AttributeError):
                pass

    def _detach_hooks(self) -> None:
        if self._atexit_registered:
            atexit.unregister(self._atexit)
            self._atexit_registered = False
        if self._prev_excepthook is not None and getattr(sys.excepthook, "__qualname__", "").endswith("_attach_hooks.<locals>.hook"):
            sys.excepthook = self._prev_excepthook
        self._prev_excepthook = None
        if self._prev_sigterm is not None and threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGTERM) == self._on_sigterm:
                    signal.signal(signal.SIGTERM, self._prev_sigterm)
            except (ValueError, OSError):
                pass
            self._prev_sigterm = None

    def _atexit(self) -> None:
        state, error = self._exit_state
        self.finish(state=state, error=error)

    def _on_sigterm(self, signum: int, frame: Any) -> None:
        # the runner cancels a job with SIGTERM and kills it a few seconds later: be quick
        self.finish(state="aborted", error="terminated (SIGTERM)", timeout=2.0)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)


# ---------------- the module-level current run ----------------
_current: Optional[Run] = None
_current_lock = threading.Lock()


def current() -> Optional[Run]:
    return _current


def _unset_current(run: Run) -> None:
    global _current
    with _current_lock:
        if _current is run:
            _current = None
            import heron

            if getattr(heron, "run", None) is run:
                heron.run = None


def _set_current(run: Run) -> None:
    global _current
    with _current_lock:
        _current = run
        import heron

        heron.run = run


def _read_lease() -> Optional[Dict[str, Any]]:
    raw = os.environ.get("HERON_LEASE")
    if not raw:
        return None
    try:
        lease = json.loads(raw)
    except ValueError:
        warn("HERON_LEASE is not JSON; ignoring it")
        return None
    return lease if isinstance(lease, dict) else None


def _leftovers(run_dir: str, own: str) -> List[str]:
    out = []
    for w in _wal.list_writers(run_dir):
        if w == own:
            continue
        meta = _wal.read_writer_meta(run_dir, w) or {}
        if _wal.process_alive(meta.get("pid")) and not meta.get("state"):
            continue
        last = _wal.WriteAheadLog(run_dir, w).last_seq()
        if int(meta.get("ackedSeq") or 0) < last:
            out.append(w)
    return out


def init(
    project: Optional[str] = None,
    name: Optional[str] = None,
    config: Optional[Dict[str, Any]] = None,
    tags: Optional[Iterable[str]] = None,
    mode: Optional[str] = None,
    host: Optional[str] = None,
    api_key: Optional[str] = None,
    dir: Optional[str] = None,
    id: Optional[str] = None,
    resume: Optional[str] = None,
    group: Optional[str] = None,
    notes: Optional[str] = None,
    environment: Optional[Dict[str, Any]] = None,
    rank: int = 0,
    capture_environment_: bool = True,
    capture_console: Optional[bool] = None,
    capture_system: bool = True,
    capture_exit: bool = True,
    system_interval: float = 10.0,
    flush_interval: float = 0.5,
    flush_points: int = 10_000,
    init_timeout: float = 5.0,
    finish_timeout: Optional[float] = None,
    backoff_base: float = 0.25,
    backoff_max: float = 5.0,
    request_timeout: float = 30.0,
    **kwargs: Any,
) -> Run:
    """Start (or resume) a run. See the package docstring and README for every option."""
    if "capture_environment" in kwargs:
        capture_environment_ = bool(kwargs.pop("capture_environment"))
    if kwargs:
        raise TypeError(f"heron.init() got unexpected arguments: {', '.join(sorted(kwargs))}")
    prev = current()
    if prev is not None and not prev.finished:
        prev.finish()

    mode = mode or os.environ.get("HERON_MODE") or "online"
    if mode not in ("online", "offline", "disabled"):
        raise ValueError('mode must be "online", "offline" or "disabled"')
    lease = _read_lease()
    in_job = lease is not None
    if lease is not None:
        job_run = os.environ.get("HERON_RUN_ID") or lease.get("runId")
        job_project = lease.get("projectName")
        if job_project:
            if project and project != job_project:
                warn(f"inside a Heron job: logging to the job's project {job_project!r}, not {project!r}")
            project = job_project
        if job_run:
            id = str(job_run)
            resume = "allow"
    if not project:
        project = os.environ.get("HERON_PROJECT")
    if not project or not PROJECT_RE.match(project) or len(project) > 100:
        raise ValueError("heron.init: project must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit")
    if resume not in (None, "never", "allow", "must"):
        raise ValueError('resume must be "never", "allow" or "must"')
    host = (host or os.environ.get("HERON_HOST") or DEFAULT_HOST).rstrip("/")
    api_key = api_key if api_key is not None else os.environ.get("HERON_API_KEY")
    is_job_token = in_job or (isinstance(api_key, str) and api_key.startswith("hj_"))
    tags_list = [str(t) for t in tags] if tags else None
    config = dict(json_safe(config or {}))
    generated = id is None
    run_id = id or _wal.new_run_id()
    if len(run_id) > 64:
        raise ValueError("run id is longer than 64 characters")
    writer = _wal.new_writer_id(rank)
    common = dict(
        flush_interval=flush_interval,
        flush_points=flush_points,
        finish_timeout=finish_timeout if finish_timeout is not None else (JOB_FINISH_TIMEOUT if is_job_token else DEFAULT_FINISH_TIMEOUT),
        system_interval=system_interval,
    )
    if mode == "disabled":
        run = Run(id=run_id, project=project, name=name, mode=mode, run_dir=None, host=host, wal=None, writer=writer, sender=None,
                  config=config, last_step=None, capture_console=False, capture_system=False, url="", first_seq=0, **common)
        _set_current(run)
        return run

    base = os.path.abspath(dir or default_base_dir())
    run_dir = os.path.join(base, run_id)
    started_at = int(time.time() * 1000)
    env = dict(capture_environment()) if capture_environment_ else {}
    if environment:
        env.update(json_safe(environment))
    previous = _wal.read_run_meta(run_dir) or {}
    merged_config = dict(previous.get("config") or {})
    if rank == 0:
        merged_config.update(config)
    meta = {
        "id": run_id,
        "project": project,
        "name": name or previous.get("name"),
        "config": merged_config,
        "tags": tags_list or previous.get("tags"),
        "group": group or previous.get("group"),
        "notes": notes or previous.get("notes"),
        "host": host,
        "mode": mode,
        "startedAt": previous.get("startedAt") or started_at,
        "environment": env or previous.get("environment"),
        "client": "python",
    }
    _wal.write_run_meta(run_dir, {k: v for k, v in meta.items() if v is not None})
    wal = _wal.WriteAheadLog(run_dir, writer)
    _wal.write_writer_meta(run_dir, writer, {"rank": rank, "pid": os.getpid(), "startedAt": started_at})
    leftovers = _leftovers(run_dir, writer) if previous and not generated else []
    local_last_step: Optional[int] = None
    for w in _wal.list_writers(run_dir):
        s = (_wal.read_writer_meta(run_dir, w) or {}).get("lastStep")
        if isinstance(s, int):
            local_last_step = s if local_last_step is None else max(local_last_step, s)

    sender: Optional[Sender] = None
    init_res: Optional[Dict[str, Any]] = None
    if mode == "online":
        body: Dict[str, Any] = {
            "project": project,
            "id": run_id,
            # an id made here cannot collide: "allow" makes the retry of a lost first answer harmless
            "resume": "allow" if generated else (resume or "never"),
            "startedAt": meta["startedAt"],
            "rank": rank,
        }
        for k, v in (("name", meta["name"]), ("config", config if rank == 0 and config else None), ("tags", tags_list), ("group", group), ("notes", notes), ("environment", env or None)):
            if v is not None:
                body[k] = v
        if isinstance(env.get("hostname"), str):
            body["host"] = env["hostname"]
        client = Client(host, api_key, timeout=request_timeout)
        sender = Sender(client, run_id, writer, body, wal, backoff_base=backoff_base, backoff_max=backoff_max, request_timeout=request_timeout)
        sender.start()
        sender.initialized.wait(max(0.0, init_timeout))
        if sender.fatal is not None and sender.init_result is None:
            sender.stop()
            wal.close()
            raise HeronError(f"heron.init: {sender.fatal}", status=sender.fatal.status)
        init_res = sender.init_result
        if leftovers:
            warn(f"uploading what earlier processes of run {run_id} left unsent in {run_dir} ({len(leftovers)} writer{'s' if len(leftovers) > 1 else ''})")
            from ._sync import sync_writer

            for w in leftovers:
                threading.Thread(target=sync_writer, args=(run_dir, w, client), kwargs={"drop_end": True, "add_crashed_end": False, "quiet": True},
                                 name=f"heron-takeover-{w}", daemon=True).start()

    last_step = local_last_step
    if init_res is not None and isinstance(init_res.get("lastStep"), int):
        last_step = init_res["lastStep"] if last_step is None else max(last_step, init_res["lastStep"])
    url = (init_res or {}).get("url") or f"{host}/runs/{run_id}"
    if init_res is not None:
        warn(f"run {run_id}: {url}")
    elif mode == "online":
        warn(f"cannot reach {host} yet; logging to {run_dir} and uploading in the background — the run appears at {url} once it arrives")
    else:
        warn(f"offline: logging run {run_id} to {run_dir}; upload it later with: {sync_command(run_dir)}")
    run = Run(id=run_id, project=project, name=name, mode=mode, run_dir=run_dir, host=host, wal=wal, writer=writer, sender=sender,
              config=merged_config, last_step=last_step,
              capture_console=(not is_job_token) if capture_console is None else capture_console,
              capture_system=capture_system, url=url, first_seq=wal.last_seq(), **common)
    if sender is not None:
        sender.set_last_enqueued(wal.last_seq())
    if capture_exit:
        run._attach_hooks()
    _set_current(run)
    return run
