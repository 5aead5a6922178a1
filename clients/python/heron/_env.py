"""What reproduces a run: Python, platform, packages, command line, git, GPUs. Credentials in
URLs and secret-named flags are redacted here, before anything is written or sent."""
from __future__ import annotations

import os
import platform
import re
import shutil
import socket
import subprocess
import sys
from typing import Any, Dict, List, Optional

REDACTED = "[redacted]"
_URL_USERINFO = re.compile(r"\b([a-z][a-z0-9+.-]*://)[^/\s@]+@", re.I)
_HERON_SECRET = re.compile(r"\b(h[krj]_)[A-Za-z0-9_-]{16,}")
_ASSIGN = re.compile(r"(^|[\s\"'])(--?[A-Za-z][\w.-]*|[A-Za-z_][A-Za-z0-9_]*)=([^\s\"']+)")
_SCP_USER = re.compile(r"^[^@/\s]+:[^@/\s]+@")  # user:token@host:path (scp-like with a password)


def is_secret_name(name: str) -> bool:
    n = re.sub(r"[^a-z0-9]", "", name.lower())
    return bool(re.search(r"token|secret|passw(or)?d|apikey|accesskey|privatekey|credential|authorization|^(key|auth|pw|pass)$", n))


def redact(s: str) -> str:
    s = _URL_USERINFO.sub(lambda m: m.group(1) + REDACTED + "@", s)
    s = _SCP_USER.sub(REDACTED + "@", s)
    s = _HERON_SECRET.sub(lambda m: m.group(1) + REDACTED, s)
    return _ASSIGN.sub(lambda m: f"{m.group(1)}{m.group(2)}={REDACTED}" if is_secret_name(m.group(2).lstrip("-")) else m.group(0), s)


def redact_argv(argv: List[str]) -> List[str]:
    out = []
    for i, a in enumerate(argv):
        prev = argv[i - 1] if i > 0 else ""
        if i > 0 and re.match(r"^--?[A-Za-z][\w.-]*$", prev) and is_secret_name(prev.lstrip("-")) and not a.startswith("--"):
            out.append(REDACTED)
        else:
            out.append(redact(a))
    return out


def _run(args: List[str], cwd: Optional[str] = None, timeout: float = 3.0) -> Optional[str]:
    try:
        r = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if r.returncode != 0:
        return None
    return r.stdout.decode("utf-8", "replace").strip()


def capture_git(cwd: str) -> Optional[Dict[str, Any]]:
    if not shutil.which("git"):
        return None
    commit = _run(["git", "rev-parse", "HEAD"], cwd)
    if not commit:
        return None
    remote = _run(["git", "config", "--get", "remote.origin.url"], cwd)
    status = _run(["git", "status", "--porcelain"], cwd)
    return {
        "commit": commit,
        "branch": _run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd),
        "remote": redact(remote) if remote else None,
        "dirty": bool(status),
    }


def parse_nvidia_smi(csv: str) -> List[Dict[str, Any]]:
    gpus = []
    for line in csv.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 3 or not parts[0]:
            continue
        gpu: Dict[str, Any] = {"name": parts[0], "driver": parts[2]}
        try:
            gpu["memoryBytes"] = int(float(parts[1])) * 1024 * 1024
        except ValueError:
            pass
        gpus.append(gpu)
    return gpus


def capture_gpus() -> Optional[List[Dict[str, Any]]]:
    if not shutil.which("nvidia-smi"):
        return None
    out = _run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader,nounits"], timeout=5.0)
    return parse_nvidia_smi(out) if out else None


def capture_packages(limit: int = 2000) -> Dict[str, str]:
    try:
        from importlib import metadata
    except ImportError:  # pragma: no cover
        return {}
    out: Dict[str, str] = {}
    try:
        for d in metadata.distributions():
            try:
                name = d.metadata["Name"]
            except Exception:
                name = None
            if name and name not in out:
                out[name] = d.version
            if len(out) >= limit:
                break
    except Exception:
        pass
    return dict(sorted(out.items(), key=lambda kv: kv[0].lower()))


def capture_environment(cwd: Optional[str] = None) -> Dict[str, Any]:
    cwd = cwd or os.getcwd()
    env: Dict[str, Any] = {
        "python": platform.python_version(),
        "pythonImplementation": platform.python_implementation(),
        "executable": sys.executable,
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "cpus": os.cpu_count(),
        "argv": redact_argv([sys.argv[0] if sys.argv else ""] + list(sys.argv[1:])),
        "cwd": cwd,
        "pid": os.getpid(),
        "git": capture_git(cwd),
        "packages": capture_packages(),
        "client": "heron-client-python",
    }
    gpus = capture_gpus()
    if gpus:
        env["gpus"] = gpus
    if "CUDA_VISIBLE_DEVICES" in os.environ:
        env["cudaVisibleDevices"] = os.environ["CUDA_VISIBLE_DEVICES"]
    return env
