#!/usr/bin/env python3
"""python/normviz_capture.py on models it has never seen: norm layers at different depths, inside
nn.Sequential, nn.ModuleList and custom modules, called once or twice, in training and in eval
mode; every captured y is recomputed from the captured x and configuration with torch.nn.functional
(as normviz recomputes it), and a model without norm layers is refused."""

import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import unittest

import torch
from torch import nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
from normviz_capture import capture  # noqa: E402


def read_npy(path):
    with open(path, "rb") as f:
        assert f.read(8) == b"\x93NUMPY\x01\x00", path
        size = struct.unpack("<H", f.read(2))[0]
        header = f.read(size).decode("latin1")
        assert "'descr': '<f4'" in header and "'fortran_order': False" in header, header
        assert (10 + size) % 64 == 0, "the header pads the data to 64 bytes"
        dims = [int(d) for d in re.search(r"\(([^)]*)\)", header).group(1).split(",") if d.strip()]
        data = f.read()
    return torch.frombuffer(bytearray(data), dtype=torch.float32).reshape(dims)


def recompute(entry, folder):
    """y from the captured x, parameters and configuration alone."""
    files = {k: read_npy(os.path.join(folder, v)) for k, v in entry["files"].items()}
    x, w, b = files["x"], files.get("weight"), files.get("bias")
    kind, eps = entry["norm"], entry["eps"]
    if kind == "batch":
        use_batch = entry["training"] or not entry["track_running_stats"]
        return F.batch_norm(x, files.get("running_mean"), files.get("running_var"), w, b,
                            training=use_batch, momentum=entry["momentum"] or 0.0, eps=eps)
    if kind == "instance":
        return F.instance_norm(x, None, None, w, b, use_input_stats=True, eps=eps)
    if kind == "group":
        return F.group_norm(x, entry["num_groups"], w, b, eps)
    return F.layer_norm(x, entry["normalized_shape"], w, b, eps)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.norms = nn.ModuleList([nn.GroupNorm(2, c), nn.InstanceNorm2d(c, affine=True)])

    def forward(self, x):
        return self.norms[1](torch.relu(self.norms[0](self.conv(x))))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.blocks = nn.Sequential(Block(8), nn.Sequential(Block(8)))
        self.head = nn.Linear(8, 16)
        self.token_norm = nn.LayerNorm(16)
        self.flat = nn.BatchNorm1d(16, momentum=None)

    def forward(self, x):
        # The largest value per channel (an InstanceNorm output's mean is 0 in every sample).
        h = self.blocks(self.stem(x)).amax(dim=(2, 3))
        t = self.token_norm(self.head(h))
        return self.flat(t)


class Shared(nn.Module):
    """One LayerNorm called twice: two captured calls."""

    def __init__(self):
        super().__init__()
        self.ln = nn.LayerNorm([4, 6])
        self.lin = nn.Linear(6, 6)

    def forward(self, x):
        return self.ln(self.lin(self.ln(x)))


class CaptureTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.dir = tempfile.mkdtemp(prefix="normviz-capture-")

    def check_capture(self, model, x):
        manifest = capture(model, x, self.dir)
        with open(os.path.join(self.dir, "manifest.json")) as f:
            self.assertEqual(json.load(f), manifest)
        for entry in manifest["layers"]:
            folder = os.path.join(self.dir, entry["dir"])
            y = read_npy(os.path.join(folder, "y.npy"))
            self.assertEqual(list(y.shape), entry["y_shape"])
            expected = recompute(entry, folder)
            torch.testing.assert_close(y, expected, rtol=1e-5, atol=1e-5,
                                       msg=f"layer {entry['name']}")
        return manifest

    def test_nested_modules_in_training_mode(self):
        model = Net().train()
        with torch.no_grad():
            model.stem[1].running_mean.fill_(0.5)  # a state the capture must keep, not the update
        m = self.check_capture(model, torch.randn(4, 3, 6, 5))
        names = [e["name"] for e in m["layers"]]
        self.assertEqual(names, ["stem.1", "blocks.0.norms.0", "blocks.0.norms.1",
                                 "blocks.1.0.norms.0", "blocks.1.0.norms.1", "token_norm", "flat"])
        modules = dict(Net().named_modules())
        self.assertTrue(all(n in modules for n in names), "names as named_modules() gives them")
        bn = m["layers"][0]
        self.assertEqual((bn["type"], bn["norm"], bn["training"]), ("BatchNorm2d", "batch", True))
        before = read_npy(os.path.join(self.dir, bn["dir"], "running_mean.npy"))
        torch.testing.assert_close(before, torch.full((8,), 0.5))  # before the forward's update
        self.assertNotEqual(float(model.stem[1].running_mean[0]), 0.5)  # the model did update
        self.assertEqual(m["layers"][-1]["momentum"], None)
        self.assertEqual(m["layers"][1]["num_groups"], 2)
        self.assertEqual(m["layers"][5]["normalized_shape"], [16])

    def test_eval_mode_uses_running_statistics(self):
        model = Net()
        model.train()
        for _ in range(3):
            model(torch.randn(4, 3, 6, 5))
        model.eval()
        m = self.check_capture(model, torch.randn(2, 3, 6, 5))
        self.assertFalse(m["training"])
        self.assertTrue(all(not e["training"] for e in m["layers"]))
        self.assertEqual(m["layers"][0]["num_batches_tracked"], 3)

    def test_a_transformer_block_in_eval_mode(self):
        # Without gradients PyTorch would take its fused path and skip the LayerNorm modules.
        block = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0,
                                           batch_first=True, norm_first=True).eval()
        m = self.check_capture(block, torch.randn(2, 5, 8))
        self.assertEqual([e["name"] for e in m["layers"]], ["norm1", "norm2"])
        self.assertEqual(m["not_called"], [])

    def test_a_module_called_twice(self):
        m = self.check_capture(Shared(), torch.randn(3, 4, 6))
        self.assertEqual([e["name"] for e in m["layers"]], ["ln", "ln#2"])
        self.assertEqual(len({e["dir"] for e in m["layers"]}), 2)

    def test_tuple_inputs(self):
        class Two(nn.Module):
            def __init__(self):
                super().__init__()
                self.gn = nn.GroupNorm(3, 6, affine=False)

            def forward(self, a, b):
                return self.gn(a + b)

        m = self.check_capture(Two(), (torch.randn(2, 6, 4), torch.randn(2, 6, 4)))
        self.assertEqual(m["layers"][0]["files"], {"x": "x.npy", "y": "y.npy"})

    def test_a_model_without_norm_layers_is_refused(self):
        with self.assertRaisesRegex(ValueError, "no normalization layer"):
            capture(nn.Sequential(nn.Linear(3, 3), nn.ReLU()), torch.randn(2, 3), self.dir)

    def test_the_script_on_a_saved_model(self):
        model_path = os.path.join(self.dir, "model.pt")
        torch.save(nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4)), model_path)
        out = os.path.join(self.dir, "cap")
        run = subprocess.run([sys.executable, os.path.join(ROOT, "python", "normviz_capture.py"),
                              model_path, "--shape", "2,1,6,6", "--eval", "--out", out],
                             capture_output=True, text=True)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("1: BatchNorm2d (2, 4, 4, 4)", run.stdout)
        with open(os.path.join(out, "manifest.json")) as f:
            self.assertFalse(json.load(f)["layers"][0]["training"])
        bad = subprocess.run([sys.executable, os.path.join(ROOT, "python", "normviz_capture.py"),
                              model_path, "--shape", "2,x", "--out", out],
                             capture_output=True, text=True)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("--shape 2,x", bad.stderr)


class RecomputeTest(unittest.TestCase):
    """`normviz compute --capture DIR --layer NAME` reproduces every captured y (NORMVIZ_BINARY, set
    by ctest)."""

    def test_normviz_recomputes_every_layer(self):
        binary = os.environ.get("NORMVIZ_BINARY")
        if not binary:
            self.skipTest("NORMVIZ_BINARY is not set (ctest sets it)")
        torch.manual_seed(1)
        model = Net()
        for _ in range(2):
            model(torch.randn(4, 3, 6, 5))  # running statistics that are not the defaults
        for mode in ("train", "eval"):
            getattr(model, mode)()
            out = tempfile.mkdtemp(prefix=f"normviz-recompute-{mode}-")
            manifest = capture(model, torch.randn(4, 3, 6, 5) * 3 + 1, out)
            for entry in manifest["layers"]:
                run = subprocess.run([binary, "compute", "--capture", out, "--layer", entry["name"],
                                      "--json"], capture_output=True, text=True)
                self.assertEqual(run.returncode, 0, f"{entry['name']}: {run.stderr}")
                check = json.loads(run.stdout)["capture"]
                self.assertLess(check["max_rel_diff"], 1e-5,
                                f"{mode} {entry['name']} ({entry['type']}): {check}")
                self.assertEqual(check["training"], mode == "train")
        bad = subprocess.run([binary, "compute", "--capture", out, "--layer", "nope", "--json"],
                             capture_output=True, text=True)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("stem.1", bad.stderr)  # the message lists the layers there are


if __name__ == "__main__":
    unittest.main(verbosity=2)
