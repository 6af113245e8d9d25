#!/usr/bin/env python3
"""`normviz compute --input-image` against PyTorch: the decoded photos equal PIL's pixels / 255
(torchvision's ToTensor), every layer's y equals torch.nn.functional's on them, --resize equals
F.interpolate(mode="bilinear", antialias=True), and bad input is refused with the file named."""

import json
import os
import re
import struct
import subprocess
import tempfile
import unittest

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGES = os.path.join(ROOT, "assets", "images")
BINARY = os.environ.get("NORMVIZ_BINARY", os.path.join(ROOT, "build", "app", "normviz"))


def read_npy(path):
    with open(path, "rb") as f:
        assert f.read(6) == b"\x93NUMPY", path
        f.read(2)
        size = struct.unpack("<H", f.read(2))[0]
        header = f.read(size).decode("latin1")
        dtype = np.float32 if "'<f4'" in header else np.float64
        dims = [int(d) for d in re.search(r"\(([^)]*)\)", header).group(1).split(",") if d.strip()]
        return torch.from_numpy(np.frombuffer(f.read(), dtype=dtype).reshape(dims).copy())


def pixels(name, mode):
    """What ToTensor makes of the file: (C, H, W) in [0, 1]."""
    a = np.asarray(Image.open(os.path.join(IMAGES, name)).convert(mode), dtype=np.float32) / 255
    return torch.from_numpy(a.reshape(a.shape[0], a.shape[1], -1).transpose(2, 0, 1).copy())


def compute(*flags):
    out = tempfile.mkdtemp()
    p = subprocess.run([BINARY, "compute", "--out", out, "--json", *flags],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"normviz compute {' '.join(flags)} failed: {p.stderr}")
    return out, json.loads(p.stdout)


def refused(*flags):
    p = subprocess.run([BINARY, "compute", "--json", *flags], capture_output=True, text=True)
    assert p.returncode != 0, f"accepted {flags}"
    return p.stderr


LAYERS = [
    (["--norm", "batch"], lambda x: F.batch_norm(x, None, None, training=True, eps=1e-5)),
    (["--norm", "batch", "--eval", "--running-mean", "RM", "--running-var", "RV"], None),
    (["--norm", "instance"], lambda x: F.instance_norm(x, eps=1e-5)),
    (["--norm", "layer", "--normalized-shape", "3,96,128"],
     lambda x: F.layer_norm(x, [3, 96, 128], eps=1e-5)),
    (["--norm", "layer"], lambda x: F.layer_norm(x, [128], eps=1e-5)),
    (["--norm", "group", "--groups", "3"], lambda x: F.group_norm(x, 3, eps=1e-5)),
    (["--norm", "group", "--groups", "1"], lambda x: F.group_norm(x, 1, eps=1e-5)),
]


class Images(unittest.TestCase):
    def assertClose(self, got, want, tol):
        self.assertEqual(tuple(got.shape), tuple(want.shape))
        err = (got.double() - want.double()).abs().max().item()
        self.assertLessEqual(err, tol * max(1.0, want.abs().max().item()))

    def test_decoded_batch_is_to_tensor(self):
        out, j = compute("--input-image", f"{IMAGES}/coffee.png,{IMAGES}/chelsea.png",
                         "--norm", "instance")
        self.assertEqual(j["shape"], [2, 3, 96, 128])
        want = torch.stack([pixels("coffee.png", "RGB"), pixels("chelsea.png", "RGB")])
        self.assertTrue(torch.equal(read_npy(f"{out}/x.npy"), want))

    def test_every_layer_matches_pytorch(self):
        x = torch.stack([pixels("chelsea.png", "RGB"), pixels("chelsea-dim.png", "RGB")])
        stats = tempfile.mkdtemp()
        rm, rv = torch.tensor([0.5, 0.4, 0.3]), torch.tensor([0.09, 0.05, 0.04])
        for name, t in (("rm", rm), ("rv", rv)):
            np.save(f"{stats}/{name}.npy", t.numpy())
        images = f"{IMAGES}/chelsea.png,{IMAGES}/chelsea-dim.png"
        for flags, layer in LAYERS:
            flags = [f.replace("RM", f"{stats}/rm.npy").replace("RV", f"{stats}/rv.npy")
                     for f in flags]
            if layer is None:
                layer = lambda x: F.batch_norm(x, rm, rv, training=False, eps=1e-5)  # noqa: E731
            with self.subTest(flags=flags):
                out, _ = compute("--input-image", images, *flags)
                self.assertClose(read_npy(f"{out}/y.npy"), layer(x), 2e-6)

    def test_instance_norm_takes_out_contrast_and_cast(self):
        """The dim, orange copy is an affine change per channel: InstanceNorm undoes it."""
        out, _ = compute("--input-image", f"{IMAGES}/chelsea.png,{IMAGES}/chelsea-dim.png",
                         "--norm", "instance", "--eps", "1e-12")
        y = read_npy(f"{out}/y.npy")
        x = read_npy(f"{out}/x.npy")
        self.assertGreater((x[0] - x[1]).abs().mean().item(), 0.15)
        self.assertLess((y[0] - y[1]).abs().mean().item(), 0.05)  # 8-bit rounding only

    def test_gray_and_mixed(self):
        out, j = compute("--input-image", f"{IMAGES}/camera.png", "--norm", "instance")
        self.assertEqual(j["shape"], [1, 1, 96, 128])
        self.assertTrue(torch.equal(read_npy(f"{out}/x.npy")[0], pixels("camera.png", "L")))
        out, j = compute("--input-image", f"{IMAGES}/camera.png,{IMAGES}/coffee.png",
                         "--norm", "batch")
        self.assertEqual(j["shape"], [2, 3, 96, 128])
        self.assertTrue(torch.equal(read_npy(f"{out}/x.npy")[0], pixels("camera.png", "RGB")))

    def test_resize_matches_interpolate(self):
        x = torch.stack([pixels("coffee.png", "RGB"), pixels("rocket.png", "RGB")])
        for size in ((40, 56), (96, 50), (150, 200), (7, 300), (1, 1)):
            with self.subTest(size=size):
                out, _ = compute("--input-image", f"{IMAGES}/coffee.png,{IMAGES}/rocket.png",
                                 "--resize", f"{size[0]},{size[1]}", "--norm", "layer")
                want = F.interpolate(x, size=size, mode="bilinear", align_corners=False,
                                     antialias=True)
                self.assertClose(read_npy(f"{out}/x.npy"), want, 1e-6)

    def test_jpeg(self):
        """JPEG decoders may differ by a level; y matches PyTorch on what normviz decoded."""
        folder = tempfile.mkdtemp()
        Image.open(f"{IMAGES}/astronaut.png").save(f"{folder}/a.jpg", quality=92)
        out, _ = compute("--input-image", f"{folder}/a.jpg", "--norm", "group", "--groups", "3")
        x = read_npy(f"{out}/x.npy")
        theirs = torch.from_numpy(
            np.asarray(Image.open(f"{folder}/a.jpg"), dtype=np.float32).transpose(2, 0, 1) / 255)
        self.assertLess((x[0] - theirs).abs().mean().item(), 2 / 255)
        self.assertClose(read_npy(f"{out}/y.npy"), F.group_norm(x, 3, eps=1e-5), 2e-6)

    def test_bad_input_is_named(self):
        folder = tempfile.mkdtemp()
        Image.open(f"{IMAGES}/coffee.png").resize((64, 48)).save(f"{folder}/small.png")
        err = refused("--input-image", f"{IMAGES}/coffee.png,{folder}/small.png")
        self.assertIn("small.png is 64×48", err)
        self.assertIn("--resize", err)
        with open(f"{folder}/text.png", "w") as f:
            f.write("not a picture")
        self.assertIn("text.png: not an image", refused("--input-image", f"{folder}/text.png"))
        self.assertIn("missing.png: cannot open", refused("--input-image", f"{folder}/missing.png"))
        with open(f"{IMAGES}/coffee.png", "rb") as f:
            head = f.read(300)
        with open(f"{folder}/cut.png", "wb") as f:
            f.write(head)
        self.assertIn("cut.png", refused("--input-image", f"{folder}/cut.png"))
        self.assertIn("exceed the limit", refused("--input-image", f"{IMAGES}/coffee.png",
                                                   "--max-elements", "1000"))
        self.assertIn("H,W", refused("--input-image", f"{IMAGES}/coffee.png", "--resize", "5"))
        self.assertIn("not both", refused("--input-image", f"{IMAGES}/coffee.png",
                                          "--input", f"{folder}/x.npy"))


if __name__ == "__main__":
    unittest.main()
