#!/usr/bin/env python3
"""Writes assets/data/digits-head.npz from a capture of the digits example in eval mode: the input of
its classifier head's BatchNorm1d(64) for a batch of 32 test digits (x32) and for the first two of
them (x2), with the running mean and variance that training left (480 batches, momentum 0.1).
    /usr/bin/python3 python/examples/digits_capture.py --out /tmp/digits
    /usr/bin/python3 assets/data/make-digits-head.py /tmp/digits/eval assets/data/digits-head.npz
Training runs for a fixed time, so another machine's capture gives slightly different numbers;
prints the ones the lesson batchnorm-running-stats quotes."""
import json
import os
import sys

import numpy as np

capture, out = sys.argv[1], sys.argv[2]
layer = next(e for e in json.load(open(os.path.join(capture, "manifest.json")))["layers"]
             if e["name"] == "head.1")
folder = os.path.join(capture, layer["dir"])
x = np.load(os.path.join(folder, "x.npy")).astype(np.float32)
rm = np.load(os.path.join(folder, "running_mean.npy")).astype(np.float32)
rv = np.load(os.path.join(folder, "running_var.npy")).astype(np.float32)
np.savez_compressed(out, x32=x[:32], x2=x[:2], running_mean=rm, running_var=rv)
print("batches tracked", layer.get("num_batches_tracked"))
for n in (32, 2):
    b = x[:n].astype(np.float64)
    print(f"batch of {n}: |batch mean - running mean| / running std, averaged over features:",
          round(float((abs(b.mean(0) - rm) / np.sqrt(rv)).mean()), 2),
          "; batch var / running var:", round(float((b.var(0) / rv).mean()), 2))
