"""System metrics as sys/<host>/... keys, when psutil is installed (an optional import)."""
from __future__ import annotations

import os
import socket
import subprocess
import shutil
from typing import Dict, Optional

try:  # optional
    import psutil  # type: ignore
except Exception:  # pragma: no cover - depends on the environment
    psutil = None


def available() -> bool:
    return psutil is not None


class SystemMetrics:
    def __init__(self) -> None:
        self.prefix = f"sys/{socket.gethostname()}"
        self._gpu = bool(shutil.which("nvidia-smi"))
        self._proc = psutil.Process(os.getpid()) if psutil else None
        self._last_disk = None
        self._last_net = None
        if psutil:
            psutil.cpu_percent(None)  # the first call primes the counter

    def sample(self) -> Dict[str, float]:
        out: Dict[str, float] = {}
        p = self.prefix
        if psutil:
            try:
                out[f"{p}/cpu_pct"] = float(psutil.cpu_percent(None))
                vm = psutil.virtual_memory()
                out[f"{p}/mem_used_bytes"] = float(vm.total - vm.available)
                out[f"{p}/mem_pct"] = float(vm.percent)
                if self._proc:
                    out[f"{p}/proc_rss_bytes"] = float(self._proc.memory_info().rss)
            except Exception:
                pass
        if self._gpu:
            out.update(self._gpu_sample() or {})
        return out

    def _gpu_sample(self) -> Optional[Dict[str, float]]:
        try:
            r = subprocess.run(
                ["nvidia-smi", "--query-gpu=utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw", "--format=csv,noheader,nounits"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=5, check=False,
            )
        except (OSError, subprocess.SubprocessError):
            self._gpu = False
            return None
        if r.returncode != 0:
            self._gpu = False
            return None
        out: Dict[str, float] = {}
        for i, line in enumerate(r.stdout.decode("utf-8", "replace").splitlines()):
            names = ["util_pct", "mem_used_bytes", "mem_total_bytes", "temp_c", "power_w"]
            for name, raw in zip(names, line.split(",")):
                try:
                    v = float(raw.strip())
                except ValueError:
                    continue
                if name.endswith("_bytes"):
                    v *= 1024 * 1024
                out[f"{self.prefix}/gpu{i}/{name}"] = v
        return out
