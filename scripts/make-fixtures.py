#!/usr/bin/python3
# Regenerates the committed test fixtures: tiny numpy-written .npy files and the PyTorch oracle cases.
#
# Run with Debian's /usr/bin/python3 (numpy + torch 1.13):  /usr/bin/python3 scripts/make-fixtures.py
# Writes tests/fixtures/npy/*.npy and tests/fixtures/torch/<case>/*.npy + tests/fixtures/torch/manifest.json.
# The output is deterministic (fixed seeds), so rerunning it leaves git clean.
#
# Torch cases: x, weight, bias and the incoming running statistics are float32 (what normviz takes as
# input); the expected outputs are float64, from the real torch.nn modules run in float64 on those
# same float32 values, so the float64 engine must agree to ~1e-12 and the float32 engine to float32
# rounding. Statistics PyTorch does not return (variance, or any statistic of InstanceNorm,
# channels-last LayerNorm, RMSNorm, custom axes) are computed here in float64 over the reduced dims,
# and cross-checked against torch.native_* where PyTorch does expose them (mean, rstd).
#
# Backward: every case also has a float32 dy and PyTorch autograd's float64 dx, dweight and dbias
# of the same float64 forward (torch.autograd.grad of y against dy; BatchNorm on a copy of the
# module so its running statistics are those of one forward).
import copy
import json
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")

# Tolerances the C++ test applies: |got - want| <= atol + rtol * |want|.
TOL_FP64 = {"atol": 1e-12, "rtol": 1e-12}
TOL_FP32 = {"atol": 2e-5, "rtol": 2e-5}
# Backward tolerances: dx is a difference of three terms of similar size, so float32 cancellation
# shows in the small elements; the fp32 bound is 1e-4 relative with an absolute floor of 1e-5.
TOL_BWD_FP64 = {"atol": 1e-10, "rtol": 1e-10}
TOL_BWD_FP32 = {"atol": 1e-5, "rtol": 1e-4}


# ---------------------------------------------------------------------------------------------
# numpy-written .npy files for the reader's tests (values the C++ test recomputes exactly)
# ---------------------------------------------------------------------------------------------
def make_npy_fixtures():
    out = os.path.join(FIXTURES, "npy")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)

    def save(name, arr, version=None):
        with open(os.path.join(out, name), "wb") as f:
            np.lib.format.write_array(f, arr, version=version, allow_pickle=False)

    quarter = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / np.float32(4)  # exact in float32
    save("v1_f4_2x3x4.npy", quarter, version=(1, 0))
    save("v2_f8_3x4.npy", np.arange(12, dtype=np.float64).reshape(3, 4) * 0.1, version=(2, 0))
    save("v3_f4_5.npy", np.arange(5, dtype=np.float32) - np.float32(2), version=(3, 0))
    save("f4_rank4_2x3x2x2.npy", (np.arange(24, dtype=np.float32) - 12).reshape(2, 3, 2, 2))
    save("f8_scalar.npy", np.array(2.5, dtype=np.float64))
    save("f8_rounding.npy", np.array([0.1, 1.0 / 3.0, -2.5, 1e-50, 1e300], dtype=np.float64))
    save("f4_special.npy", np.array([np.nan, np.inf, -np.inf, -0.0, 1e-45], dtype=np.float32))
    save("f4_empty_0x3.npy", np.zeros((0, 3), dtype=np.float32))
    save("big_endian_f4.npy", quarter.astype(">f4"))
    save("big_endian_f8.npy", np.arange(3, dtype=">f8"))
    save("fortran_f4_2x3.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
    save("int32.npy", np.arange(4, dtype=np.int32))
    save("float16.npy", np.arange(4, dtype=np.float16))
    save("complex64.npy", np.arange(2, dtype=np.complex64))
    save("rank5_f4.npy", np.zeros((1, 1, 1, 2, 2), dtype=np.float32))
    save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<f4")]))


# ---------------------------------------------------------------------------------------------
# PyTorch oracle cases
# ---------------------------------------------------------------------------------------------
def f64(t):
    return t.detach().to(torch.float64)


def stats_by_hand(x, dims, subtract_mean=True):
    """float64 mean, biased var (mean square for RMSNorm), kept-axes shape."""
    x = f64(x)
    if subtract_mean:
        mean = x.mean(dim=dims)
        var = x.var(dim=dims, unbiased=False)
    else:
        var = (x * x).mean(dim=dims)
        mean = torch.zeros_like(var)
    return mean, var


def close(a, b, what):
    a, b = f64(a).reshape(-1), f64(b).reshape(-1)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    err = (a - b).abs().max().item() if a.numel() else 0.0
    assert err <= 1e-12 * max(1.0, b.abs().max().item()), f"{what}: hand vs torch differ by {err}"


class Writer:
    def __init__(self):
        self.root = os.path.join(FIXTURES, "torch")
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(self.root)
        self.cases = []

    def add(self, name, meta, arrays):
        d = os.path.join(self.root, name)
        os.makedirs(d)
        files = {}
        for key, (t, dtype) in arrays.items():
            arr = t.detach().cpu().numpy().astype(dtype)
            np.save(os.path.join(d, key + ".npy"), arr)
            files[key] = key + ".npy"
        case = {"name": name}
        case.update(meta)
        case.setdefault("tolerance", {"fp64": TOL_FP64, "fp32": TOL_FP32})
        if "dx" in arrays:
            case["tolerance"].update({"backward_fp64": TOL_BWD_FP64, "backward_fp32": TOL_BWD_FP32})
        case["files"] = files
        self.cases.append(case)

    def finish(self):
        manifest = {
            "about": "PyTorch %s oracle cases made by scripts/make-fixtures.py. Inputs (x, weight, "
            "bias, running_*_in) are float32; expected outputs are float64 from torch in float64 "
            "on those inputs. Statistics have the kept axes' shape; var is biased; for RMSNorm "
            "mean is 0 and var is mean(x^2); in BatchNorm eval mode mean/var are the running "
"statistics used. dy is float32; dx, dweight, dbias are autograd's float64 gradients of "
            "sum(y * dy). Compare |got - want| <= atol + rtol * |want|." % torch.__version__,
            "cases": self.cases,
        }
        with open(os.path.join(self.root, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)
            f.write("\n")


def rand_input(shape, seed, scale=1.0, offset=0.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g) * scale + offset).to(torch.float32)


def rand_affine(n_shape, seed):
    g = torch.Generator().manual_seed(seed)
    w = (1.0 + 0.5 * torch.randn(*n_shape, generator=g)).to(torch.float32)
    b = (0.3 * torch.randn(*n_shape, generator=g)).to(torch.float32)
    return w, b


def set_affine(module, arrays, shape, seed):
    """Random float32 weight/bias of `shape` loaded into `module` and recorded as fixtures."""
    wt, bs = rand_affine(shape, seed)
    with torch.no_grad():
        module.weight.copy_(f64(wt))
        module.bias.copy_(f64(bs))
    arrays["weight"] = (wt, np.float32)
    arrays["bias"] = (bs, np.float32)


def add_backward(arrays, x, seed, forward, weight=None, bias=None):
    """dy (float32) and autograd's float64 dx, dweight, dbias of y = forward(x) against dy."""
    g = torch.Generator().manual_seed(seed + 9000)
    dy = torch.randn(*x.shape, generator=g).to(torch.float32)
    xd = f64(x).requires_grad_(True)
    params = [p for p in (weight, bias) if p is not None]
    grads = torch.autograd.grad(forward(xd), [xd] + params, grad_outputs=f64(dy))
    arrays["dy"] = (dy, np.float32)
    arrays["dx"] = (grads[0], np.float64)
    if weight is not None:
        arrays["dweight"] = (grads[1], np.float64)
    if bias is not None:
        arrays["dbias"] = (grads[-1], np.float64)


def leaf(t):
    """A float64 copy of t that autograd differentiates against."""
    return f64(t).clone().requires_grad_(True)


def base_meta(norm, x, module, eps, **kw):
    meta = {"norm": norm, "module": module, "shape": list(x.shape), "eps": eps, "affine": False}
    meta.update(kw)
    return meta


def common_arrays(x, y, mean, var, eps):
    rstd = 1.0 / torch.sqrt(f64(var) + eps)
    return {
        "x": (x, np.float32),
        "y": (f64(y), np.float64),
        "mean": (f64(mean), np.float64),
        "var": (f64(var), np.float64),
        "rstd": (rstd, np.float64),
    }


def batch_case(w, name, shape, seed, *, momentum=0.1, training=True, affine=True, eps=1e-5,
               running_in=True, num_batches_tracked=0):
    x = rand_input(shape, seed, scale=2.0, offset=0.5)
    C = shape[1]
    cls = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d}[len(shape)]
    m = cls(C, eps=eps, momentum=momentum, affine=affine).double()
    arrays = {}
    if affine:
        set_affine(m, arrays, (C,), seed + 1)
    if running_in:
        g = torch.Generator().manual_seed(seed + 2)
        rm = (0.2 * torch.randn(C, generator=g)).to(torch.float32)
        rv = (0.5 + torch.rand(C, generator=g)).to(torch.float32)
        m.running_mean.copy_(f64(rm))
        m.running_var.copy_(f64(rv))
        arrays["running_mean_in"] = (rm, np.float32)
        arrays["running_var_in"] = (rv, np.float32)
    else:
        rm, rv = torch.zeros(C), torch.ones(C)
    m.num_batches_tracked.fill_(num_batches_tracked)
    m.train(training)
    bm = copy.deepcopy(m)  # the backward's forward must not move the recorded running statistics
    add_backward(arrays, x, seed, bm, bm.weight, bm.bias)
    dims = [0] + list(range(2, len(shape)))
    if training:
        mean, var = stats_by_hand(x, dims)
        _, save_mean, save_invstd = torch.native_batch_norm(
            f64(x), None, None, None, None, True, 0.0, eps)
        close(mean, save_mean, name + " mean")
        close(1.0 / torch.sqrt(var + eps), save_invstd, name + " rstd")
    else:
        mean, var = f64(rm), f64(rv)
    with torch.no_grad():
        y = m(f64(x))
    arrays.update(common_arrays(x, y, mean, var, eps))
    if training:
        arrays["running_mean"] = (m.running_mean, np.float64)
        arrays["running_var"] = (m.running_var, np.float64)
    module = "nn.%s(%d, eps=%g, momentum=%s, affine=%s)" % (
        cls.__name__, C, eps, momentum, affine)
    w.add(name, base_meta("batch", x, module, eps, momentum=momentum, training=training,
                          affine=affine, num_batches_tracked=num_batches_tracked), arrays)


def layer_case(w, name, shape, normalized_shape, seed, *, affine=True, eps=1e-5):
    x = rand_input(shape, seed)
    ns = [normalized_shape] if isinstance(normalized_shape, int) else list(normalized_shape)
    m = torch.nn.LayerNorm(normalized_shape, eps=eps, elementwise_affine=affine).double()
    arrays = {}
    if affine:
        set_affine(m, arrays, ns, seed + 1)
    dims = list(range(len(shape) - len(ns), len(shape)))
    mean, var = stats_by_hand(x, dims)
    _, t_mean, t_rstd = torch.native_layer_norm(f64(x), ns, None, None, eps)
    close(mean, t_mean, name + " mean")
    close(1.0 / torch.sqrt(var + eps), t_rstd, name + " rstd")
    add_backward(arrays, x, seed, m, m.weight, m.bias)
    with torch.no_grad():
        y = m(f64(x))
    arrays.update(common_arrays(x, y, mean, var, eps))
    module = "nn.LayerNorm(%r, eps=%g, elementwise_affine=%s)" % (normalized_shape, eps, affine)
    w.add(name, base_meta("layer", x, module, eps, normalized_shape=ns, affine=affine), arrays)


def instance_case(w, name, shape, seed, *, affine=False, eps=1e-5):
    x = rand_input(shape, seed, scale=1.5, offset=-0.25)
    C = shape[1]
    cls = torch.nn.InstanceNorm1d if len(shape) == 3 else torch.nn.InstanceNorm2d
    m = cls(C, eps=eps, affine=affine).double()
    arrays = {}
    if affine:
        set_affine(m, arrays, (C,), seed + 1)
    mean, var = stats_by_hand(x, list(range(2, len(shape))))
    add_backward(arrays, x, seed, m, m.weight, m.bias)
    with torch.no_grad():
        y = m(f64(x))
    arrays.update(common_arrays(x, y, mean, var, eps))
    module = "nn.%s(%d, eps=%g, affine=%s)" % (cls.__name__, C, eps, affine)
    w.add(name, base_meta("instance", x, module, eps, affine=affine), arrays)


def group_case(w, name, shape, groups, seed, *, affine=True, eps=1e-5):
    x = rand_input(shape, seed)
    N, C = shape[0], shape[1]
    m = torch.nn.GroupNorm(groups, C, eps=eps, affine=affine).double()
    arrays = {}
    if affine:
        set_affine(m, arrays, (C,), seed + 1)
    mean, var = stats_by_hand(x.reshape(N, groups, -1), [2])
    hw = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    _, t_mean, t_rstd = torch.native_group_norm(f64(x), None, None, N, C, hw, groups, eps)
    close(mean, t_mean, name + " mean")
    close(1.0 / torch.sqrt(var + eps), t_rstd, name + " rstd")
    add_backward(arrays, x, seed, m, m.weight, m.bias)
    with torch.no_grad():
        y = m(f64(x))
    arrays.update(common_arrays(x, y, mean, var, eps))
    module = "nn.GroupNorm(%d, %d, eps=%g, affine=%s)" % (groups, C, eps, affine)
    w.add(name, base_meta("group", x, module, eps, groups=groups, affine=affine), arrays)


def layer2d_case(w, name, shape, seed, *, affine=True, eps=1e-5):
    """ConvNeXt's LayerNorm2d: permute NCHW->NHWC, layer_norm over C, permute back."""
    x = rand_input(shape, seed)
    C = shape[1]
    wt, bs = rand_affine((C,), seed + 1)
    wd, bd = (leaf(wt), leaf(bs)) if affine else (None, None)

    def forward(xd):
        return F.layer_norm(xd.permute(0, 2, 3, 1), [C], wd, bd, eps).permute(0, 3, 1, 2)

    arrays = {}
    add_backward(arrays, x, seed, forward, wd, bd)
    with torch.no_grad():
        y = forward(f64(x))
    mean, var = stats_by_hand(x, [1])
    _, t_mean, t_rstd = torch.native_layer_norm(f64(x).permute(0, 2, 3, 1), [C], None, None, eps)
    close(mean, t_mean, name + " mean")
    close(1.0 / torch.sqrt(var + eps), t_rstd, name + " rstd")
    if affine:
        arrays.update({"weight": (wt, np.float32), "bias": (bs, np.float32)})
    arrays.update(common_arrays(x, y, mean, var, eps))
    module = "LayerNorm2d(%d, eps=%g, affine=%s): x.permute(0,2,3,1) -> layer_norm([%d]) -> permute(0,3,1,2)" % (
        C, eps, affine, C)
    w.add(name, base_meta("layer2d", x, module, eps, affine=affine), arrays)


def rms_case(w, name, shape, normalized_shape, seed, *, affine=True, eps=1e-5):
    """torch 1.13 has no nn.RMSNorm: x / sqrt(mean(x^2) + eps) * weight, in float64."""
    x = rand_input(shape, seed, scale=1.0, offset=0.3)
    ns = list(normalized_shape)
    dims = list(range(len(shape) - len(ns), len(shape)))
    mean, ms = stats_by_hand(x, dims, subtract_mean=False)
    wt, _ = rand_affine(ns, seed + 1)
    wd = leaf(wt) if affine else None

    def forward(xd):
        y = xd / torch.sqrt((xd ** 2).mean(dim=dims, keepdim=True) + eps)
        return y * wd if affine else y

    arrays = {}
    add_backward(arrays, x, seed, forward, wd)
    with torch.no_grad():
        y = forward(f64(x))
    if affine:
        arrays["weight"] = (wt, np.float32)
    arrays.update(common_arrays(x, y, mean, ms, eps))
    module = "RMSNorm(%r, eps=%g): x / sqrt(mean(x^2) + eps)%s" % (ns, eps, " * weight" if affine else "")
    w.add(name, base_meta("rms", x, module, eps, normalized_shape=ns, affine=affine), arrays)


def custom_case(w, name, shape, axes, seed, *, affine=False, eps=1e-5):
    """(x - mean(axes)) / sqrt(var(axes, unbiased=False) + eps), in float64; with affine, times
    weight and plus bias along the channel axis (normviz's affine axis for custom axes)."""
    x = rand_input(shape, seed, scale=0.7, offset=1.0)
    mean, var = stats_by_hand(x, list(axes))
    C = shape[1]
    wt, bs = rand_affine((C,), seed + 1)
    wd, bd = (leaf(wt), leaf(bs)) if affine else (None, None)
    along_c = [1, C] + [1] * (len(shape) - 2)

    def forward(xd):
        y = (xd - xd.mean(dim=axes, keepdim=True)) / torch.sqrt(
            xd.var(dim=axes, unbiased=False, keepdim=True) + eps)
        return y * wd.view(along_c) + bd.view(along_c) if affine else y

    arrays = {}
    add_backward(arrays, x, seed, forward, wd, bd)
    with torch.no_grad():
        y = forward(f64(x))
    if affine:
        arrays.update({"weight": (wt, np.float32), "bias": (bs, np.float32)})
    arrays.update(common_arrays(x, y, mean, var, eps))
    module = "(x - x.mean(%s)) / sqrt(x.var(%s, unbiased=False) + %g)%s" % (
        axes, axes, eps, " * weight[c] + bias[c]" if affine else "")
    w.add(name, base_meta("custom", x, module, eps, axes=list(axes), affine=affine), arrays)


def make_torch_fixtures():
    torch.set_num_threads(1)
    w = Writer()
    # BatchNorm: momentum 0.1, 0.5 and None (cumulative average after num_batches_tracked batches).
    batch_case(w, "batch2d_train_m0.1", (4, 3, 3, 2), 101)
    batch_case(w, "batch2d_train_m0.5_odd", (2, 3, 5, 7), 102, momentum=0.5, eps=1e-3)
    batch_case(w, "batch2d_train_cumulative", (3, 4, 2, 2), 103, momentum=None,
               num_batches_tracked=3)
    batch_case(w, "batch2d_eval", (3, 4, 2, 2), 104, training=False)
    batch_case(w, "batch1d_nc_train", (6, 5), 105)
    batch_case(w, "batch1d_ncl_train_default_running", (4, 3, 7), 106, affine=False,
               running_in=False)
    batch_case(w, "batch2d_eval_noaffine", (2, 3, 3, 3), 107, training=False, affine=False)
    # LayerNorm on (3,4,2,2) with each legal normalized_shape, and on a transformer activation.
    layer_case(w, "layer_422", (3, 4, 2, 2), (4, 2, 2), 201)
    layer_case(w, "layer_22_eps1e-3", (3, 4, 2, 2), (2, 2), 202, eps=1e-3)
    layer_case(w, "layer_2_noaffine", (3, 4, 2, 2), 2, 203, affine=False)
    layer_case(w, "layer_btc", (2, 5, 8), 8, 204)
    # InstanceNorm 2d and 1d, with and without affine.
    instance_case(w, "instance2d", (2, 3, 4, 5), 301)
    instance_case(w, "instance2d_affine", (3, 4, 2, 2), 302, affine=True)
    instance_case(w, "instance1d", (2, 3, 7), 303)
    instance_case(w, "instance1d_affine_eps1e-3", (3, 2, 5), 304, affine=True, eps=1e-3)
    # GroupNorm G = 1, 2, 4 on (3,4,2,2), and G = 3 on an odd shape.
    group_case(w, "group_g1", (3, 4, 2, 2), 1, 401, affine=False)
    group_case(w, "group_g2", (3, 4, 2, 2), 2, 402)
    group_case(w, "group_g4", (3, 4, 2, 2), 4, 403)
    group_case(w, "group_g3_odd", (2, 6, 5, 3), 3, 404, eps=1e-3)
    # Channels-last LayerNorm (ConvNeXt).
    layer2d_case(w, "layer2d", (2, 4, 3, 3), 501)
    layer2d_case(w, "layer2d_odd_eps1e-3", (2, 3, 5, 7), 502, eps=1e-3)
    layer2d_case(w, "layer2d_noaffine", (2, 3, 2, 4), 503, affine=False)
    # RMSNorm.
    rms_case(w, "rms_btc", (2, 5, 8), [8], 601)
    rms_case(w, "rms_422_noaffine", (3, 4, 2, 2), [4, 2, 2], 602, affine=False)
    # Custom axes.
    custom_case(w, "custom_023", (3, 4, 2, 2), (0, 2, 3), 701)
    custom_case(w, "custom_1_odd", (2, 3, 5, 7), (1,), 702)
    custom_case(w, "custom_all", (3, 4, 2, 2), (0, 1, 2, 3), 703)
    custom_case(w, "custom_2_eps1e-3", (2, 3, 4, 5), (2,), 704, eps=1e-3)
    custom_case(w, "custom_02_affine", (3, 4, 2, 3), (0, 2), 705, affine=True)
    w.finish()


def main():
    make_npy_fixtures()
    make_torch_fixtures()
    total = 0
    for d, _, files in os.walk(FIXTURES):
        if d.startswith(os.path.join(FIXTURES, "npy")) or d.startswith(os.path.join(FIXTURES, "torch")):
            total += sum(os.path.getsize(os.path.join(d, f)) for f in files)
    print("fixtures written: %d bytes in tests/fixtures/npy and tests/fixtures/torch" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
