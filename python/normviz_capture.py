#!/usr/bin/env python3
"""Capture the normalization layers of a PyTorch model for normviz.

    from normviz_capture import capture
    manifest = capture(model, inputs, "capture/")     # inputs: a tensor, or a tuple for model(*inputs)

or, on a model saved whole with torch.save(model, "model.pt"):

    python3 normviz_capture.py model.pt --input x.npy --out capture/
    python3 normviz_capture.py model.pt --shape 8,3,32,32 --seed 0 --out capture/

Every BatchNorm1d/2d/3d, LayerNorm, GroupNorm, InstanceNorm1d/2d/3d (and RMSNorm, where the
PyTorch version has it) gets hooks; the inputs run through the model once, in the mode the model is
in (a model in training mode is captured in training mode, with its running statistics as they
were before this forward; the forward updates them in the model, as any training forward does), and the capture folder gets, per call of each layer, its input x, its
output y, its weight, bias and running statistics as float32 .npy files, and one manifest.json:

    {"layers": [{"name": "features.1", "type": "BatchNorm2d", "norm": "batch", "dir": "...",
                 "x_shape": [...], "eps": 1e-05, "momentum": 0.1, "training": true, ...}, ...],
     "not_called": [...]}

Each name is the module's name as model.named_modules() gives it; a module called more than once
is listed once per call, the later ones as "name#2", "name#3", .... PyTorch is the only dependency
(NumPy, when present, only makes writing faster).
"""

import argparse
import array
import json
import os
import re
import struct
import sys

import torch
from torch import nn

# The module classes normviz reads, with normviz's name for each layer (its --norm).
_KINDS = [
    (nn.BatchNorm1d, "batch"),
    (nn.BatchNorm2d, "batch"),
    (nn.BatchNorm3d, "batch"),
    (nn.InstanceNorm1d, "instance"),
    (nn.InstanceNorm2d, "instance"),
    (nn.InstanceNorm3d, "instance"),
    (nn.LayerNorm, "layer"),
    (nn.GroupNorm, "group"),
]
if hasattr(nn, "RMSNorm"):  # PyTorch 2.4 and later
    _KINDS.append((nn.RMSNorm, "rms"))


def norm_kind(module):
    """normviz's name for the layer `module` is ("batch", "layer", ...), or None."""
    for cls, kind in _KINDS:
        if type(module) is cls:
            return kind
    return None


def write_npy(path, tensor):
    """Writes `tensor` as a C-order float32 .npy (format 1.0)."""
    t = tensor.detach().to("cpu", torch.float32).contiguous()
    shape = tuple(t.shape)
    shape_text = f"({shape[0]},)" if len(shape) == 1 else "(" + ", ".join(map(str, shape)) + ")"
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % shape_text
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    try:
        import numpy  # noqa: F401  (only for speed)

        data = t.numpy().tobytes()
    except ImportError:
        data = array.array("f", t.flatten().tolist())
        if sys.byteorder != "little":
            data.byteswap()
        data = data.tobytes()
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(data)


def _config(module, kind):
    """The layer's configuration as normviz reads it."""
    c = {"eps": None if module.eps is None else float(module.eps)}  # RMSNorm's None: see below
    if kind in ("batch", "instance"):
        c["num_features"] = int(module.num_features)
        c["momentum"] = None if module.momentum is None else float(module.momentum)
        c["affine"] = bool(module.affine)
        c["track_running_stats"] = bool(module.track_running_stats)
    elif kind == "group":
        c["num_groups"] = int(module.num_groups)
        c["num_channels"] = int(module.num_channels)
        c["affine"] = bool(module.affine)
    else:  # layer, rms
        c["normalized_shape"] = [int(d) for d in module.normalized_shape]
        c["affine"] = bool(module.elementwise_affine)
    c["training"] = bool(module.training)
    return c


def _folder_name(name, used):
    """A folder name for layer `name`: its characters kept where safe, unique in `used`."""
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "layer"
    folder, k = base, 2
    while folder in used:
        folder, k = f"{base}_{k}", k + 1
    used.add(folder)
    return folder


def capture(model, inputs, out_dir):
    """Runs `inputs` through `model` once with hooks on its normalization layers and writes the
    capture folder `out_dir` (created if missing). `inputs` is a tensor, or a tuple or list passed
    as model(*inputs). Returns the manifest (a dict, also written as out_dir/manifest.json).
    Raises ValueError when the model has no normalization layer."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"capture: the model must be a torch.nn.Module, got {type(model).__name__}")
    layers = [(name, m, norm_kind(m)) for name, m in model.named_modules() if norm_kind(m)]
    if not layers:
        names = ", ".join(cls.__name__ for cls, _ in _KINDS)
        raise ValueError(f"capture: {type(model).__name__} has no normalization layer "
                         f"(looked for {names})")
    os.makedirs(out_dir, exist_ok=True)
    args = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)

    entries, used, calls, before = [], set(), {}, {}

    def pre_hook(name, module):
        def hook(_module, _inputs):
            # Running statistics as they are before this forward updates them.
            before[name] = {
                key: getattr(module, key).detach().clone()
                for key in ("running_mean", "running_var", "num_batches_tracked")
                if getattr(module, key, None) is not None
            }
        return hook

    def post_hook(name, kind):
        def hook(module, hook_inputs, output):
            calls[name] = calls.get(name, 0) + 1
            call_name = name if calls[name] == 1 else f"{name}#{calls[name]}"
            folder = _folder_name(call_name, used)
            path = os.path.join(out_dir, folder)
            os.makedirs(path, exist_ok=True)
            x = hook_inputs[0]
            entry = {"name": call_name, "module": name, "type": type(module).__name__,
                     "norm": kind, "dir": folder, "x_shape": list(x.shape),
                     "y_shape": list(output.shape), "x_dtype": str(x.dtype).replace("torch.", "")}
            entry.update(_config(module, kind))
            if entry["eps"] is None:  # RMSNorm(eps=None) takes the input dtype's machine epsilon
                entry["eps"] = float(torch.finfo(x.dtype).eps)
            write_npy(os.path.join(path, "x.npy"), x)
            write_npy(os.path.join(path, "y.npy"), output)
            files = {"x": "x.npy", "y": "y.npy"}
            for key in ("weight", "bias"):
                value = getattr(module, key, None)
                if value is not None:
                    write_npy(os.path.join(path, key + ".npy"), value)
                    files[key] = key + ".npy"
            for key, value in before.get(name, {}).items():
                if key == "num_batches_tracked":
                    entry["num_batches_tracked"] = int(value)
                else:
                    write_npy(os.path.join(path, key + ".npy"), value)
                    files[key] = key + ".npy"
            entry["files"] = files
            entries.append(entry)
        return hook

    handles = []
    try:
        for name, module, kind in layers:
            handles.append(module.register_forward_pre_hook(pre_hook(name, module)))
            handles.append(module.register_forward_hook(post_hook(name, kind)))
        # With gradients on: without them PyTorch's fused fast paths (nn.TransformerEncoderLayer
        # in eval mode) compute their LayerNorms inside one kernel, and the modules' hooks never run.
        with torch.enable_grad():
            model(*args)
    finally:
        for h in handles:
            h.remove()
    if not entries:
        raise ValueError("capture: the model's forward called none of its normalization layers "
                         f"({', '.join(name for name, _, _ in layers)})")
    called = {e["module"] for e in entries}
    manifest = {"model": type(model).__name__, "training": bool(model.training),
                "torch": torch.__version__, "layers": entries,
                "not_called": [name for name, _, _ in layers if name not in called]}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest


def _read_npy(path):
    """A float32 or float64 C-order .npy as a float32 tensor (the script's --input)."""
    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            raise ValueError(f"{path}: not an .npy file")
        major = f.read(2)[0]
        size = struct.unpack("<H" if major == 1 else "<I", f.read(2 if major == 1 else 4))[0]
        header = f.read(size).decode("latin1")
        descr = re.search(r"'descr':\s*'([^']+)'", header)
        shape = re.search(r"'shape':\s*\(([^)]*)\)", header)
        if not descr or not shape or "True" in header.split("fortran_order")[1][:10]:
            raise ValueError(f"{path}: needs a C-order array")
        dims = [int(d) for d in shape.group(1).replace(" ", "").split(",") if d]
        kinds = {"<f4": ("f", torch.float32), "<f8": ("d", torch.float64)}
        if descr.group(1) not in kinds:
            raise ValueError(f"{path}: dtype {descr.group(1)}, expected float32 or float64")
        code, _ = kinds[descr.group(1)]
        values = array.array(code)
        values.frombytes(f.read())
    count = 1
    for d in dims:
        count *= d
    if len(values) != count:
        raise ValueError(f"{path}: holds {len(values)} values, its shape {dims} needs {count}")
    return torch.tensor(values.tolist(), dtype=torch.float32).reshape(dims)


def main(argv=None):
    p = argparse.ArgumentParser(description="Capture a saved PyTorch model's normalization layers "
                                "for normviz (normviz --capture DIR opens the folder).")
    p.add_argument("model", help="a model saved whole with torch.save(model, PATH)")
    p.add_argument("--input", help="the model's input as an .npy (float32 or float64)")
    p.add_argument("--shape", help="or a randn input of this shape, e.g. 8,3,32,32")
    p.add_argument("--seed", type=int, default=0, help="the randn input's seed")
    p.add_argument("--out", required=True, help="the capture folder to write")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--eval", action="store_true", help="capture in eval mode")
    mode.add_argument("--train", action="store_true", help="capture in training mode")
    a = p.parse_args(argv)
    if (a.input is None) == (a.shape is None):
        p.error("give exactly one of --input and --shape")
    try:
        model = torch.load(a.model, map_location="cpu")
        if not isinstance(model, nn.Module):
            raise ValueError(f"{a.model} holds a {type(model).__name__}, not a model saved with "
                             "torch.save(model, PATH) (a state_dict needs its model's code)")
        if a.eval:
            model.eval()
        if a.train:
            model.train()
        if a.input:
            x = _read_npy(a.input)
        else:
            try:
                dims = [int(d) for d in a.shape.split(",")]
            except ValueError:
                raise ValueError(f"--shape {a.shape}: expected integers like 8,3,32,32")
            torch.manual_seed(a.seed)
            x = torch.randn(dims)
        manifest = capture(model, x, a.out)
    except (OSError, ValueError, RuntimeError, TypeError) as e:
        print(f"normviz_capture: {e}", file=sys.stderr)
        return 1
    for layer in manifest["layers"]:
        print(f"{layer['name']}: {layer['type']} {tuple(layer['x_shape'])}")
    for name in manifest["not_called"]:
        print(f"{name}: not called by this forward", file=sys.stderr)
    print(f"{len(manifest['layers'])} layer calls in {a.out}/manifest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
