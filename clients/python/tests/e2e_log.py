"""
Used by the end-to-end test against a real Heron server (run inside a venv where
heron-client is installed):

    python e2e_log.py <host> <key> <project> <n points> <dir> [--rate R] [--finish-timeout S] [--mode online|offline]

Logs n points of the metric "e2e/value" (step i, value i * 0.5; plus "e2e/nan" = NaN at step 0),
a text and a config update, then finishes. The last line of stdout is JSON:
{"runId", "dir", "url", "ok", "points"}. ok: finish() saw every batch acknowledged.
Exit code 0 when ok (or offline), 3 otherwise.
"""
import argparse
import json
import math
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("key")
    p.add_argument("project")
    p.add_argument("n", type=int)
    p.add_argument("dir")
    p.add_argument("--rate", type=float, default=0.0, help="points per second (0: as fast as possible)")
    p.add_argument("--finish-timeout", type=float, default=120.0)
    p.add_argument("--mode", default="online", choices=["online", "offline"])
    p.add_argument("--name", default="e2e")
    a = p.parse_args()

    import heron

    run = heron.init(project=a.project, name=a.name, host=a.host, api_key=a.key, dir=a.dir, mode=a.mode,
                     config={"n": a.n}, capture_console=False, capture_system=False, init_timeout=10.0)
    heron.log({"e2e/nan": math.nan}, step=0, commit=False)
    start = time.monotonic()
    for i in range(a.n):
        heron.log({"e2e/value": i * 0.5}, step=i)
        if a.rate > 0:
            ahead = (i + 1) / a.rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
    run.log_text("e2e/text", "done", step=max(0, a.n - 1))
    run.config.update({"finished_logging": True})
    run.summary["points"] = a.n
    ok = heron.finish(timeout=a.finish_timeout)
    print(json.dumps({"runId": run.id, "dir": run.dir, "url": run.url, "ok": ok, "points": a.n}), flush=True)
    return 0 if ok or a.mode == "offline" else 3


if __name__ == "__main__":
    sys.exit(main())
