"""
Hugging Face Trainer integration:

    from heron.integrations.transformers import HeronCallback
    trainer = Trainer(..., callbacks=[HeronCallback(project="my-project")])

`transformers` is imported when HeronCallback is first used, not when this module is imported.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import heron

_BASE: Any = None


def _base() -> Any:
    global _BASE
    if _BASE is None:
        try:
            from transformers import TrainerCallback  # type: ignore
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("heron.integrations.transformers.HeronCallback needs `transformers` installed") from e
        _BASE = TrainerCallback
    return _BASE


class _HeronCallbackImpl:
    """logs the Trainer's `logs` dicts at its global step; the TrainingArguments become the config"""

    def __init__(self, project: Optional[str] = None, finish: bool = True, **init_kwargs: Any):
        self._project = project
        self._init_kwargs = init_kwargs
        self._finish = finish
        self._run: Optional[heron.Run] = None

    def _ensure(self, args: Any = None) -> Optional[heron.Run]:
        if args is not None and not getattr(args, "should_log", True) and getattr(args, "process_index", 0) != 0:
            return None
        if self._run is None:
            r = heron.current()
            if r is None:
                cfg: Dict[str, Any] = {}
                if args is not None and hasattr(args, "to_dict"):
                    try:
                        cfg = args.to_dict()
                    except Exception:
                        cfg = {}
                cfg.update(self._init_kwargs.pop("config", None) or {})
                r = heron.init(project=self._project, config=cfg, **self._init_kwargs)
            self._run = r
        return self._run

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        self._ensure(args)

    def on_log(self, args: Any, state: Any, control: Any, logs: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        if not getattr(state, "is_world_process_zero", True):
            return
        run = self._ensure(args)
        if run is None or not logs:
            return
        step = int(getattr(state, "global_step", 0) or 0)
        nums = {}
        for k, v in logs.items():
            key = k if "/" in k else (f"eval/{k[5:]}" if k.startswith("eval_") else f"train/{k}")
            nums[key] = v
        run.log(nums, step=step)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._run is not None and self._finish:
            self._run.finish()
            self._run = None


def __getattr__(name: str) -> Any:
    # HeronCallback is built on first access, so importing this module never imports transformers
    if name == "HeronCallback":
        cls = type("HeronCallback", (_HeronCallbackImpl, _base()), {"__module__": __name__, "__doc__": _HeronCallbackImpl.__doc__})
        globals()["HeronCallback"] = cls
        return cls
    raise AttributeError(name)
