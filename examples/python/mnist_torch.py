"""
An MNIST-style classifier in PyTorch that logs to Heron. The data is synthetic (28x28 images
of class-dependent blobs made here), so nothing is downloaded. Needs torch (e.g. Debian's
`python3-torch`, or a venv made with --system-site-packages); without it, it says so and
exits 0 — "skipped".

    HERON_HOST=http://127.0.0.1:3000 HERON_API_KEY=hk_... python3 examples/python/mnist_torch.py --epochs 2

As a Heron command job (`{"kind": "command", "command": ["python3", "examples/python/mnist_torch.py"]}`)
heron.init() attaches to the job's run by itself; with HERON_RESUME=1 (a requeued attempt)
it continues from its checkpoint.
"""
import argparse
import os
import sys

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("torch is not installed; skipping the MNIST example (install python3-torch)")
    sys.exit(0)

import heron


def synthetic_mnist(n: int, seed: int):
    """n 1x28x28 images: class c is a bright blob at one of 10 positions plus noise"""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    cy = 6 + (y // 5).float() * 14 + torch.randn(n, generator=g)
    cx = 3 + (y % 5).float() * 5.5 + torch.randn(n, generator=g)
    blob = torch.exp(-((yy[None] - cy[:, None, None]) ** 2 + (xx[None] - cx[:, None, None]) ** 2) / 8.0)
    x = (blob + 0.3 * torch.rand(n, 28, 28, generator=g)).clamp(0, 1)
    return x[:, None], y


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--project", default="examples")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--train-size", type=int, default=4096)
    p.add_argument("--checkpoint", default=os.path.join(os.environ.get("HERON_CHECKPOINT_DIR", "."), "mnist_ckpt.pt"))
    p.add_argument("--offline", action="store_true")
    a = p.parse_args()

    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    run = heron.init(project=a.project, name="mnist-torch", config=vars(a) | {"device": device},
                     tags=["example", "torch"], mode="offline" if a.offline else None)
    xtr, ytr = synthetic_mnist(a.train_size, 1)
    xte, yte = synthetic_mnist(1024, 2)
    model = Net().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    start_epoch, step = 0, 0
    if os.environ.get("HERON_RESUME") == "1" and os.path.exists(a.checkpoint):
        ck = torch.load(a.checkpoint)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        start_epoch, step = ck["epoch"] + 1, ck["step"]
        print(f"resumed from {a.checkpoint} at epoch {start_epoch}")

    try:  # a numpy-less torch cannot turn the tensor into an array: the image is optional
        run.log_image("samples/first", xtr[0, 0], step=step, caption=f"label {int(ytr[0])}")
    except Exception as e:
        print(f"not logging a sample image: {e}")
    for epoch in range(start_epoch, a.epochs):
        model.train()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), a.batch_size):
            idx = perm[i:i + a.batch_size]
            x, y = xtr[idx].to(device), ytr[idx].to(device)
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 10 == 0:
                heron.log({"train/loss": loss, "epoch": epoch}, step=step)  # tensors are fine
            step += 1
        model.eval()
        with torch.no_grad():
            logits = model(xte.to(device))
            acc = (logits.argmax(1).cpu() == yte).float().mean()
            test_loss = F.cross_entropy(logits.cpu(), yte)
        heron.log({"test/acc": acc, "test/loss": test_loss}, step=step)
        print(f"epoch {epoch}: test acc {acc:.3f} loss {test_loss:.3f}")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": epoch, "step": step}, a.checkpoint)
    run.summary.update({"test/acc": float(acc), "steps": step})
    heron.finish()


if __name__ == "__main__":
    main()
