# Seed 003's recipe in PyTorch, the baseline of bench/distill-recipe.ts: a deep CNN teacher,
# then four light CNN students (ce, kd, cosine, regressor), Adam lr 1e-3, batch 128, on the
# exact 28×28×1 images Heron trains on (raw uint8 files written by the benchmark), normalised
# with the same mean/std. The layer shapes follow the seed with 1 input channel and 28×28
# inputs (flatten 1568 / 784). Prints each model's test accuracy (%) and one JSON line last.
#   python3 distill_recipe.py <data dir> <epochs> <seed> <mean> <std> <threads>
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

data, epochs, seed, mean, std, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
torch.set_num_threads(threads)


def load(name):
    x = np.fromfile(os.path.join(data, f"{name}-images.u8"), dtype=np.uint8).reshape(-1, 1, 28, 28)
    y = np.fromfile(os.path.join(data, f"{name}-labels.u8"), dtype=np.uint8).astype(np.int64)
    return torch.from_numpy((x.astype(np.float32) / 255.0 - mean) / std), torch.from_numpy(y)


xtr, ytr = load("train")
xte, yte = load("test")


class Deep(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 128, 3, padding=1), nn.ReLU(), nn.Conv2d(128, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
                                      nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2))
        self.classifier = nn.Sequential(nn.Linear(1568, 512), nn.ReLU(), nn.Dropout(0.1), nn.Linear(512, 10))

    def forward(self, x):
        m = self.features(x)
        flat = torch.flatten(m, 1)
        return self.classifier(flat), flat, m


class Light(nn.Module):
    def __init__(self, regressor=False):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2))
        self.regressor = nn.Conv2d(16, 32, 3, padding=1) if regressor else None
        self.classifier = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.1), nn.Linear(256, 10))

    def forward(self, x):
        m = self.features(x)
        flat = torch.flatten(m, 1)
        return self.classifier(flat), flat, (self.regressor(m) if self.regressor is not None else m)


def batches(g):
    order = torch.randperm(len(ytr), generator=g)
    for i in range(0, len(order), 128):
        idx = order[i:i + 128]
        yield xtr[idx], ytr[idx]


def test(model):
    model.eval()
    with torch.no_grad():
        correct = sum((model(xte[i:i + 500])[0].argmax(1) == yte[i:i + 500]).sum().item() for i in range(0, len(yte), 500))
    return 100.0 * correct / len(yte)


def train(model, loss_fn, teacher=None):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        for x, y in batches(g):
            opt.zero_grad()
            t = None
            if teacher is not None:
                with torch.no_grad():
                    t = teacher(x)
            loss = loss_fn(model(x), y, t)
            loss.backward()
            opt.step()
    return test(model)


ce = nn.CrossEntropyLoss()


def kd(out, y, t, T=2.0):
    soft_t = F.softmax(t[0] / T, dim=-1)
    soft_s = F.log_softmax(out[0] / T, dim=-1)
    soft = torch.sum(soft_t * (soft_t.log() - soft_s)) / soft_s.size(0) * T * T
    return 0.25 * soft + 0.75 * ce(out[0], y)


def cosine(out, y, t):
    teacher_flat = F.avg_pool1d(t[1].unsqueeze(1), 2).squeeze(1)  # 1568 → 784, as the seed pools the teacher
    hidden = nn.CosineEmbeddingLoss()(out[1], teacher_flat, torch.ones(y.size(0)))
    return 0.25 * hidden + 0.75 * ce(out[0], y)


def regressor(out, y, t):
    return 0.25 * F.mse_loss(out[2], t[2]) + 0.75 * ce(out[0], y)


t0 = time.perf_counter()
torch.manual_seed(seed)
teacher = Deep()
res = {"teacher": train(teacher, lambda out, y, t: ce(out[0], y))}
print(f"torch teacher: {res['teacher']:.2f}%  ({time.perf_counter() - t0:.1f} s)")
teacher.eval()
for name, fn, reg in [("ce", lambda out, y, t: ce(out[0], y), False), ("kd", kd, False), ("cosine", cosine, False), ("regressor", regressor, True)]:
    torch.manual_seed(42)  # the seed initialises every student the same way
    student = Light(regressor=reg)
    res[name] = train(student, fn, None if name == "ce" else teacher)
    print(f"torch {name}: {res[name]:.2f}%  ({time.perf_counter() - t0:.1f} s)")
res["seconds"] = round(time.perf_counter() - t0, 1)
res["threads"] = threads
print(json.dumps(res))
