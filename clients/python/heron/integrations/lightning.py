"""
PyTorch Lightning integration:

    from heron.integrations.lightning import HeronLogger
    trainer = L.Trainer(logger=HeronLogger(project="my-project"))

`lightning` (or `pytorch_lightning`) is imported when HeronLogger is first used, not when this
module is imported.
"""
from __future__ import annotations

from argparse import Namespace
from typing import Any, Dict, Mapping, Optional, Union

import heron

_BASE: Any = None
_ZERO: Any = None


def _base() -> Any:
    global _BASE, _ZERO
    if _BASE is None:
        try:
            from lightning.pytorch.loggers.logger import Logger  # type: ignore
            from lightning.pytorch.utilities import rank_zero_only  # type: ignore
        except ImportError:
            try:
                from pytorch_lightning.loggers.logger import Logger  # type: ignore
                from pytorch_lightning.utilities import rank_zero_only  # type: ignore
            except ImportError as e:  # pragma: no cover - depends on the environment
                raise ImportError("heron.integrations.lightning.HeronLogger needs `lightning` or `pytorch_lightning` installed") from e
        _BASE, _ZERO = Logger, rank_zero_only
    return _BASE


class _HeronLoggerImpl:
    """logs Lightning's metrics and hyperparameters to a Heron run (rank 0 only)"""

    def __init__(self, project: Optional[str] = None, name: Optional[str] = None, **init_kwargs: Any):
        super().__init__()
        self._project = project
        self._name = name
        self._init_kwargs = init_kwargs
        self._run: Optional[heron.Run] = None

    @property
    def experiment(self) -> "heron.Run":
        if self._run is None:
            self._run = heron.current() or heron.init(project=self._project, name=self._name, **self._init_kwargs)
        return self._run

    @property
    def name(self) -> Optional[str]:
        return self._name or (self._run.name if self._run else None)

    @property
    def version(self) -> Optional[str]:
        return self._run.id if self._run else None

    def log_hyperparams(self, params: Union[Dict[str, Any], Namespace], *args: Any, **kwargs: Any) -> None:
        if isinstance(params, Namespace):
            params = vars(params)
        self.experiment.config.update(dict(params or {}))

    def log_metrics(self, metrics: Mapping[str, float], step: Optional[int] = None) -> None:
        self.experiment.log(dict(metrics), step=step)

    def save(self) -> None:
        if self._run is not None:
            self._run.flush()

    def finalize(self, status: str) -> None:
        if self._run is not None:
            self._run.finish(state="finished" if status in ("success", "finished") else ("aborted" if status == "interrupted" else "crashed"))
            self._run = None


def __getattr__(name: str) -> Any:
    if name == "HeronLogger":
        cls = type("HeronLogger", (_HeronLoggerImpl, _base()), {"__module__": __name__, "__doc__": _HeronLoggerImpl.__doc__})
        globals()["HeronLogger"] = cls
        return cls
    raise AttributeError(name)
