"""
A plain training-loop stand-in that logs to Heron (no dependencies beyond heron-client).

    python3 -m venv .venv && .venv/bin/pip install --no-index --no-build-isolation ./clients/python
    HERON_HOST=http://127.0.0.1:3000 HERON_API_KEY=hk_... .venv/bin/python examples/python/plain.py

--offline logs to .heron/runs/<id> only; upload it later with `python -m heron sync <dir>`.
"""
import argparse
import math
import random

import heron


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--project", default="examples")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--offline", action="store_true")
    a = p.parse_args()

    run = heron.init(project=a.project, name="plain-python", config={"lr": a.lr, "steps": a.steps},
                     tags=["example", "python"], mode="offline" if a.offline else None)
    loss = 2.0
    for step in range(a.steps):
        loss = loss * (1 - a.lr) + 0.02 * random.random()
        heron.log({"train/loss": loss, "train/lr": a.lr * (0.5 * (1 + math.cos(math.pi * step / a.steps)))}, step=step)
        if step % 50 == 0:
            print(f"step {step}: loss {loss:.4f}")  # captured into the run's logs
            run.log_text("samples", f"step {step}: loss is {loss:.4f}")
    run.summary["final_loss"] = loss
    heron.finish()


if __name__ == "__main__":
    main()
