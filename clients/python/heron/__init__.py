"""
Heron Python client: log experiments to a self-hosted Heron server.

    import heron
    run = heron.init(project="mnist", config={"lr": 0.01})
    for step in range(100):
        heron.log({"loss": loss}, step=step)
    heron.finish()

Standard library only. Everything logged goes to an append-only local log (fsynced per
batch) first and is uploaded by a background thread, exactly once; a server that is down
does not stop training, and `python -m heron sync <run dir>` uploads what is left.
"""
from __future__ import annotations

__version__ = "0.1.0"

from typing import Any, Optional

from ._http import HeronError
from ._run import Config, Run, Summary, current, init as _init, sync_command

#: the current run (set by heron.init, None after heron.finish)
run: Optional[Run] = None


def init(*args: Any, **kwargs: Any) -> Run:
    return _init(*args, **kwargs)


init.__doc__ = _init.__doc__
init.__wrapped__ = _init  # type: ignore[attr-defined]


def _run() -> Run:
    r = current()
    if r is None:
        raise RuntimeError("call heron.init() first")
    return r


def log(data: Any, step: Optional[int] = None, commit: bool = True) -> None:
    _run().log(data, step=step, commit=commit)


def log_text(key: str, text: Any, step: Optional[int] = None, caption: Optional[str] = None) -> None:
    _run().log_text(key, text, step=step, caption=caption)


def log_image(key: str, image: Any, step: Optional[int] = None, caption: Optional[str] = None) -> None:
    _run().log_image(key, image, step=step, caption=caption)


def finish(state: str = "finished", error: Optional[str] = None, timeout: Optional[float] = None) -> bool:
    r = current()
    return True if r is None else r.finish(state=state, error=error, timeout=timeout)


def sync(path: str, host: Optional[str] = None, api_key: Optional[str] = None, timeout: float = 600.0) -> Any:
    """upload a run directory (or a directory of them); what `python -m heron sync` does"""
    from ._sync import sync as _sync

    return _sync(path, host=host, api_key=api_key, timeout=timeout)


__all__ = ["init", "log", "log_text", "log_image", "finish", "sync", "run", "Run", "Config", "Summary", "HeronError", "sync_command", "__version__"]
