#!/usr/bin/env python3
"""The README's worked example: a small CNN with BatchNorm and GroupNorm and a tiny transformer
block with LayerNorm, trained for about a minute on the 8x8 handwritten digits that scikit-learn
ships (Debian: python3-sklearn), so that its running statistics are real; then captured for normviz
in eval mode and in training mode.

    /usr/bin/python3 python/examples/digits_capture.py --out digits-capture
    build/app/normviz --capture digits-capture/eval
    build/app/normviz compute --capture digits-capture/eval --layer cnn.1 --json
"""

import argparse
import os
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from normviz_capture import capture  # noqa: E402


class DigitsNet(nn.Module):
    """Two convolutions (BatchNorm2d, then GroupNorm), and the image's 8 rows as 8 tokens through a
    pre-LN transformer block (two LayerNorms), both feeding one classifier."""

    def __init__(self):
        super().__init__()
        self.cnn = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.GroupNorm(4, 32), nn.ReLU(),
            nn.AdaptiveAvgPool2d(2), nn.Flatten())
        self.embed = nn.Linear(8, 32)
        self.block = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64,
                                                dropout=0.0, batch_first=True, norm_first=True)
        self.head = nn.Sequential(nn.Linear(32 * 4 + 32, 64), nn.BatchNorm1d(64), nn.ReLU(),
                                  nn.Linear(64, 10))

    def forward(self, x):
        tokens = self.block(self.embed(x[:, 0]))  # (N, 8 rows, 32 features)
        return self.head(torch.cat([self.cnn(x), tokens.mean(dim=1)], dim=1))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="digits-capture", help="writes OUT/eval and OUT/train")
    p.add_argument("--seconds", type=float, default=60, help="training time")
    a = p.parse_args()
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("digits_capture: needs scikit-learn's digits (apt-get install python3-sklearn)")
    torch.manual_seed(0)
    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (1797, 1, 8, 8)
    y = torch.tensor(digits.target)
    train_x, train_y, test_x, test_y = x[:1500], y[:1500], x[1500:], y[1500:]
    model = DigitsNet()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    start, steps = time.time(), 0
    while time.time() - start < a.seconds:
        model.train()
        for batch in torch.randperm(len(train_x)).split(64):
            loss = nn.functional.cross_entropy(model(train_x[batch]), train_y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
    model.eval()
    with torch.no_grad():
        accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
    print(f"trained {steps} steps in {time.time() - start:.0f} s; held-out accuracy {accuracy:.3f}")
    batch = test_x[:32]
    for mode in ("eval", "train"):
        getattr(model, mode)()
        manifest = capture(model, batch, os.path.join(a.out, mode))
        print(f"{a.out}/{mode}: {', '.join(l['name'] for l in manifest['layers'])}")


if __name__ == "__main__":
    main()
