#!/usr/bin/env python3
"""Generate a broad set of "real-world-like" PyTorch ONNX exports for issue 12's bar test.

The layer fixtures (scripts/export_fixtures.py) show each layer once, in a small hand-written model. This script
makes many models nobody looked at while writing the importer: classifiers and regressors with random
architectures (1-4 hidden layers of 4-64 units; one activation kind per model; BatchNorm before or after the
activation, LayerNorm, or none; residual blocks; input standardisation in forward or as a BatchNorm1d; a plain,
softmax, log-softmax or two-output head; squeezed, rank-3, flattened or features-major inputs; outputs ~1e4..1e5
or hidden activations ~1e-4), mostly trained for a moment on a synthetic task, exported at a random opset 11-17
exactly as users call torch.onnx.export. For each model NAME it writes into OUTDIR:

  NAME.onnx               the export (checked with onnx.checker)
  NAME.reference.json     16 inputs and torch's float32 outputs, in the format of fixtures/models/*.reference.json
                          ("features" records the architecture drawn)
  NAME.calibration.json   {"inputs": [...]}: 32 more inputs drawn like the reference inputs
  INDEX.json              [{file, opset, outputKind, features, ops, inputs, outputs}] for every model

and prints how many models have each feature. Deterministic for a given --seed (and torch version): model i
draws everything from its own generator, so --count only adds or removes models at the end.

    /usr/bin/python3 scripts/export_unseen.py /tmp/unseen [--count 60] [--seed 1]

With --cnn (issue 13) it makes small convolutional networks instead (default 40, named unseen-cnn-SEED-III-T):
LeNet variants of 1-3 conv blocks (standard, or depthwise + pointwise; kernel 1/3/5, stride 1/2, padding 0/1/2,
dilation 1/2, optional BatchNorm2d before the activation (folded into the Conv by torch) or after it (kept as a
BatchNormalization node), max/average/no pooling with ceil_mode and count_include_pad variants), global
average pooling (AdaptiveAvgPool2d or x.mean) or a flatten (nn.Flatten, torch.flatten or x.view), 1-2 Linear
layers, inputs [C 1..3, H and W 8..16], some exported with a fixed batch of 1; same output files ("input_shape" is
[C, H, W], inputs flattened row-major):

    /usr/bin/python3 scripts/export_unseen.py /tmp/unseen-cnn --cnn [--count 40] [--seed 1]

mlvm never runs Python: the output is test data. It is not committed (the bar is about models not seen).
"""

import argparse
import collections
import json
import os
import random
import sys
import warnings

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_fixtures import floats, onnx_ops  # noqa: E402  (one float/JSON convention for every fixture)

N_REFERENCE = 16
N_CALIBRATION = 32
N_TRAIN = 256

ACTIVATIONS = {
    # name: (weight in the draw, module factory given the width)
    "relu": (6, lambda w, r: nn.ReLU()),
    "leaky_relu": (2, lambda w, r: nn.LeakyReLU(r.choice([0.01, 0.1, 0.2]))),
    "prelu": (1, lambda w, r: nn.PReLU()),
    "prelu_channels": (1, lambda w, r: nn.PReLU(num_parameters=w)),
    "elu": (1, lambda w, r: nn.ELU(alpha=r.choice([1.0, 0.5]))),
    "softplus": (1, lambda w, r: nn.Softplus()),
    "relu6": (1, lambda w, r: nn.ReLU6()),
    "hardtanh": (1, lambda w, r: nn.Hardtanh(-r.choice([1.0, 2.0]), r.choice([1.0, 2.0]))),
    "gelu": (2, lambda w, r: nn.GELU()),
    "gelu_tanh": (1, lambda w, r: nn.GELU(approximate="tanh")),
    "silu": (2, lambda w, r: nn.SiLU()),
    "sigmoid": (1, lambda w, r: nn.Sigmoid()),
    "tanh": (2, lambda w, r: nn.Tanh()),
}
# Activations close to the identity (or to 0) near 0, so a network whose hidden values are ~1e-4 stays ~1e-4.
TINY_SAFE = {"relu", "leaky_relu", "prelu", "prelu_channels", "elu", "relu6", "hardtanh", "gelu", "gelu_tanh",
             "silu", "tanh"}


def weighted(r, table):
    names = list(table)
    return r.choices(names, weights=[table[n] for n in names])[0]


def draw_features(r):
    """One architecture, as a flat dict of choices (recorded in the reference and counted in the summary)."""
    f = {"task": r.choices(["classifier", "regressor"], weights=[3, 2])[0]}
    f["form"] = weighted(r, {"flat": 16, "rank3": 2, "image": 2, "features_major": 1})
    f["n_in"] = r.randint(2, 32) if f["form"] != "image" else 1
    if f["form"] == "image":
        f["image"] = [r.randint(2, 6), r.randint(2, 6)]
        f["n_in"] = f["image"][0] * f["image"][1]
    f["depth"] = r.randint(1, 4)
    f["residual"] = f["depth"] >= 2 and r.random() < 0.25
    width = r.choice([4, 8, 16, 32, 64]) if f["residual"] else None
    f["widths"] = [width or r.randint(4, 64) for _ in range(f["depth"])]
    f["activation"] = weighted(r, {k: v[0] for k, v in ACTIVATIONS.items()})
    norms = {"none": 10, "batchnorm": 4, "batchnorm_after": 2, "layernorm": 4}
    if f["form"] == "rank3":
        norms = {"none": 10, "layernorm": 4}  # BatchNorm1d reads [N, C, L]: not on [N, 1, F]
    f["norm"] = weighted(r, norms)
    input_norms = {"none": 12, "sub_div_buffers": 3, "sub_div_inline": 2, "batchnorm": 3}
    if f["form"] == "rank3":
        input_norms.pop("batchnorm")
    f["input_norm"] = weighted(r, input_norms)
    f["dropout"] = r.random() < 0.3  # gone from an eval export, but people write it
    f["linear"] = weighted(r, {"nn.Linear": 16, "matmul": 2, "addmm_row_bias": 2 if f["form"] != "rank3" else 0})
    f["scale"] = "normal"
    if f["task"] == "classifier":
        f["n_out"] = r.randint(2, 10)
        f["head"] = weighted(r, {"logits": 10, "softmax": 4, "log_softmax": 3, "two_outputs": 2})
    else:
        f["n_out"] = r.choice([1, 1, 1, 2, 3])
        f["head"] = "squeeze" if f["n_out"] == 1 and r.random() < 0.5 else "values"
        plain = f["norm"] == "none" and f["input_norm"] != "batchnorm"
        f["scale"] = weighted(r, {"normal": 6, "large_output": 2,
                                  "tiny_hidden": 3 if plain and f["activation"] in TINY_SAFE else 0})
    f["opset"] = r.randint(11, 17)
    f["trained"] = f["scale"] == "normal" and r.random() < 0.75
    f["default_norm_params"] = not f["trained"] and f["norm"] != "none" and r.random() < 0.3
    return f


class RawLinear(nn.Module):
    """x @ W + b with W stored [in, out] (MatMul + Add), or torch.addmm with a [1, out] bias (Gemm, C [1, out])."""

    def __init__(self, n_in, n_out, addmm):
        super().__init__()
        bound = 1.0 / n_in ** 0.5
        self.weight = nn.Parameter(torch.empty(n_in, n_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty((1, n_out) if addmm else (n_out,)).uniform_(-bound, bound))
        self.addmm = addmm

    def forward(self, x):
        return torch.addmm(self.bias, x, self.weight) if self.addmm else x @ self.weight + self.bias


class Generated(nn.Module):
    def __init__(self, f, r):
        super().__init__()
        self.f = f
        n_in = f["n_in"]
        if f["input_norm"] in ("sub_div_buffers", "sub_div_inline"):
            mean = torch.randn(n_in) * r.choice([1.0, 10.0])
            std = torch.rand(n_in) * r.choice([2.0, 20.0]) + 0.5
            if f["input_norm"] == "sub_div_buffers":
                self.register_buffer("mean", mean)
                self.register_buffer("std", std)
            else:  # plain tensor attributes: traced as constants (Constant nodes), as in `x = (x - MEAN) / STD`
                self.mean, self.std = mean, std
        self.input_bn = nn.BatchNorm1d(n_in) if f["input_norm"] == "batchnorm" else None
        self.blocks = nn.ModuleList()
        width = n_in
        for w in f["widths"]:
            layers = [self.linear(width, w)]
            if f["norm"] == "batchnorm":
                layers.append(nn.BatchNorm1d(w))
            if f["norm"] == "layernorm":
                layers.append(nn.LayerNorm(w))
            layers.append(ACTIVATIONS[f["activation"]][1](w, r))
            if f["norm"] == "batchnorm_after":
                layers.append(nn.BatchNorm1d(w))
            if f["dropout"]:
                layers.append(nn.Dropout(0.2))
            self.blocks.append(nn.Sequential(*layers))
            width = w
        self.head = self.linear(width, f["n_out"])

    def linear(self, n_in, n_out):
        kind = self.f["linear"]
        return nn.Linear(n_in, n_out) if kind == "nn.Linear" else RawLinear(n_in, n_out, kind == "addmm_row_bias")

    def logits(self, x):
        f = self.f
        if f["form"] == "features_major":
            x = x.t()
        if f["form"] == "image":
            x = torch.flatten(x, 1)
        if f["input_norm"] in ("sub_div_buffers", "sub_div_inline"):
            x = (x - self.mean) / self.std
        if self.input_bn is not None:
            x = self.input_bn(x)
        h = x
        for i, block in enumerate(self.blocks):
            h = h + block(h) if f["residual"] and i > 0 else block(h)
        out = self.head(h)
        return out.squeeze(-1) if f["head"] == "squeeze" else out

    def forward(self, x):
        z = self.logits(x)
        head = self.f["head"]
        if head == "softmax":
            return torch.softmax(z, dim=-1)
        if head == "log_softmax":
            return torch.log_softmax(z, dim=-1)
        if head == "two_outputs":
            return z, torch.softmax(z, dim=-1)
        return z


def modules_of(model, kind):
    return [m for m in model.modules() if isinstance(m, kind)]


def set_scale(model, f, r):
    """Untrained value-range variants: outputs ~1e4..1e5, or hidden activations ~1e-4 with O(1) outputs."""
    linears = [b[0] for b in model.blocks] + [model.head]
    with torch.no_grad():
        if f["scale"] == "large_output":
            model.head.weight.normal_(0.0, r.choice([1000.0, 3000.0]))
            model.head.bias.uniform_(5e3, 8e4)
            model.head.bias.mul_(r.choice([1.0, -1.0]))
        if f["scale"] == "tiny_hidden":
            linears[0].weight.mul_(1e-4)
            for layer in linears[:-1]:
                layer.bias.mul_(1e-4)
            model.head.weight.mul_(1e4 / (2.0 if f["activation"] in ("gelu", "gelu_tanh", "silu") else 1.0))


def randomize_norms(model, r):
    """Untrained models: norm parameters and running statistics as after some training, unless the draw keeps
    PyTorch's defaults (then the exporter shares equal initializers through Identity nodes)."""
    with torch.no_grad():
        for bn in modules_of(model, nn.BatchNorm1d):
            bn.running_mean.normal_(0.0, 0.3)
            bn.running_var.uniform_(0.3, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0.0, 0.2)
        for ln in modules_of(model, nn.LayerNorm):
            ln.weight.uniform_(0.5, 1.5)
            ln.bias.normal_(0.0, 0.2)
        for p in modules_of(model, nn.PReLU):
            p.weight.uniform_(0.05, 0.4)


def sample_inputs(model, f, n, generator):
    """Raw inputs as the model sees them: N(0,1) features, or around MEAN/STD for models that standardise."""
    z = torch.randn(n, f["n_in"], generator=generator)
    if f["input_norm"] in ("sub_div_buffers", "sub_div_inline"):
        z = model.mean + model.std * z
    if f["input_norm"] == "batchnorm" and hasattr(model, "raw_mean"):
        z = model.raw_mean + model.raw_std * z
    return shape_batch(z, f)


def shape_batch(x, f):
    if f["form"] == "rank3":
        return x.reshape(len(x), 1, f["n_in"])
    if f["form"] == "image":
        return x.reshape(len(x), 1, *f["image"])
    if f["form"] == "features_major":
        return x.t()
    return x


def train(model, f, generator):
    """A moment of Adam on a synthetic task (a random linear teacher's classes, or a smooth random function),
    in train mode, so BatchNorm's running statistics are real ones."""
    x = sample_inputs(model, f, N_TRAIN, generator)
    flat = x.t() if f["form"] == "features_major" else x.reshape(N_TRAIN, -1)
    teacher = torch.randn(flat.shape[1], f["n_out"], generator=generator)
    centred = (flat - flat.mean(0)) / (flat.std(0) + 1e-6)
    if f["task"] == "classifier":
        target = (centred @ teacher).argmax(1)
        loss_fn = nn.functional.cross_entropy
    else:
        target = torch.sin(centred @ teacher) * 2.0
        if f["head"] == "squeeze":
            target = target.squeeze(-1)
        loss_fn = nn.functional.mse_loss
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(150):
        optimizer.zero_grad()
        out = model.logits(x)
        if f["form"] == "rank3":
            out = out.reshape(N_TRAIN, -1) if f["head"] != "squeeze" else out.reshape(N_TRAIN)
        loss_fn(out, target).backward()
        optimizer.step()
    model.eval()


def build(index, seed):
    r = random.Random(f"mlvm-unseen:{seed}:{index}")
    torch.manual_seed(r.getrandbits(31))
    f = draw_features(r)
    model = Generated(f, r)
    generator = torch.Generator().manual_seed(r.getrandbits(31))
    if f["input_norm"] == "batchnorm":
        # Raw features off N(0,1), for the input BatchNorm to standardise (its statistics are learnt or set).
        model.raw_mean = torch.randn(f["n_in"], generator=generator) * 3.0
        model.raw_std = torch.rand(f["n_in"], generator=generator) * 4.0 + 0.5
    if f["trained"]:
        train(model, f, generator)
    else:
        if not f["default_norm_params"]:
            randomize_norms(model, r)
            if model.input_bn is not None:
                with torch.no_grad():
                    model.input_bn.running_mean.copy_(model.raw_mean)
                    model.input_bn.running_var.copy_(model.raw_std ** 2)
        set_scale(model, f, r)
    model.eval()
    return model, f, generator


def export_one(outdir, name, model, f, generator):
    path = os.path.join(outdir, name + ".onnx")
    batch_axis = 1 if f["form"] == "features_major" else 0
    two = f["head"] == "two_outputs"
    output_names = ["logits", "probs"] if two else ["output"]
    dynamic_axes = {"input": {batch_axis: "batch"}, **{o: {0: "batch"} for o in output_names}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, sample_inputs(model, f, 1, torch.Generator().manual_seed(0)), path,
                          opset_version=f["opset"], input_names=["input"], output_names=output_names,
                          dynamic_axes=dynamic_axes, do_constant_folding=True)
    inputs = sample_inputs(model, f, N_REFERENCE, generator)
    with torch.no_grad():
        out = model(inputs)
        logits = model.logits(inputs)
    first = out[0] if two else out
    per_sample = (lambda t: t.t()) if batch_axis == 1 else (lambda t: t)
    ref = {
        "model": name + ".onnx",
        "generated_by": "scripts/export_unseen.py",
        "torch_version": torch.__version__,
        "opset": f["opset"],
        "outputKind": f["task"],
        "features": f,
        "input_shape": list(per_sample(inputs).shape[1:]),
    }
    if batch_axis:
        ref["batch_axis"] = batch_axis  # the ONNX input is [F, batch]: feed the transposed batch
    ref["output_shape"] = list(first.shape[1:])
    ref["inputs"] = [floats(x) for x in per_sample(inputs)]
    ref["logits"] = [floats(y) for y in logits]
    if f["head"] == "softmax":
        ref["probabilities"] = [floats(y) for y in out]
    if f["head"] == "log_softmax":
        ref["log_probabilities"] = [floats(y) for y in out]
    if two:
        ref["probabilities"] = [floats(y) for y in out[1]]
        ref["outputs"] = {"logits": ref["logits"], "probs": ref["probabilities"]}
    write_json(os.path.join(outdir, name + ".reference.json"), ref)
    calibration = sample_inputs(model, f, N_CALIBRATION, generator)
    write_json(os.path.join(outdir, name + ".calibration.json"),
               {"model": name + ".onnx", "generated_by": "scripts/export_unseen.py",
                "inputs": [floats(x) for x in per_sample(calibration)]})
    return {"file": name + ".onnx", "opset": f["opset"], "outputKind": f["task"], "features": f, **onnx_ops(path)}


def write_json(path, value):
    with open(path, "w") as out:
        json.dump(value, out, indent=1)
        out.write("\n")


def summary(entries):
    counts = collections.defaultdict(collections.Counter)
    for e in entries:
        f = e["features"]
        for key in ("task", "form", "depth", "activation", "norm", "input_norm", "residual", "dropout", "linear",
                    "head", "scale", "opset", "trained", "default_norm_params"):
            counts[key][str(f[key])] += 1
        for op in e["ops"]:
            counts["onnx op (models using it)"][op] += 1
    for key, counter in counts.items():
        print(f"{key}: " + ", ".join(f"{k} {v}" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))))


# ---------------------------------------------------------------------------------------------------------------
# --cnn (issue 13): small convolutional classifiers nobody looked at. LeNet-like stacks of 1-3 conv blocks (a
# standard conv, or a depthwise conv + pointwise 1x1 conv), each with a random kernel 1/3/5, stride 1/2, padding
# 0/1/2, dilation 1/2, an optional BatchNorm2d (before or after the activation), one activation per model, and
# max, average or no pooling; then global average pooling (AdaptiveAvgPool2d or x.mean) or a flatten (nn.Flatten,
# torch.flatten or x.view), and 1-2 Linear layers. Inputs [C in 1..3, H and W in 8..16], N(0,1) or pixels in
# [0,1]. Every drawn layer leaves an output of at least 1x1 (checked by formula and by a forward pass).

CNN_ACTIVATIONS = {
    "relu": (6, lambda c, r: nn.ReLU()),
    "leaky_relu": (2, lambda c, r: nn.LeakyReLU(r.choice([0.01, 0.1, 0.2]))),
    "elu": (1, lambda c, r: nn.ELU()),
    "silu": (1, lambda c, r: nn.SiLU()),
    "gelu": (1, lambda c, r: nn.GELU()),
    "relu6": (1, lambda c, r: nn.ReLU6()),
}
MAX_FLATTEN = 1024  # a flatten wider than this becomes global average pooling (keeps every file small)


def conv_out(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def pool_out(size, k, s, p, ceil):
    """torch's pooling output size: with ceil_mode the last window must still start inside the (left-padded) input."""
    span = size + 2 * p - k
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def draw_conv(r, channels, hw):
    """One conv block's choices, redrawn until its output is at least 1x1 (None if the image is too small)."""
    for _ in range(50):
        k = r.choice([1, 3, 3, 5])
        d = r.choice([1, 1, 1, 2]) if k > 1 else 1
        reach = d * (k - 1) // 2
        b = {
            "conv": "depthwise" if channels > 1 and r.random() < 0.25 else "standard",
            "out": r.choice([2, 4, 6, 8, 12, 16]),
            "kernel": k,
            "stride": r.choice([1, 1, 2]),
            "padding": r.choice([p for p in (0, 1, 2) if p <= reach] or [0]),
            "dilation": d,
            "batchnorm": weighted(r, {"none": 7, "before_activation": 2, "after_activation": 1}),
        }
        size = [conv_out(x, k, b["stride"], b["padding"], d) for x in hw]
        if min(size) < 1:
            continue
        pool = weighted(r, {"none": 3, "max": 4, "avg": 2})
        b["pool"] = None
        if pool != "none":
            pk = r.choice([2, 2, 3])
            pp = r.choice([0, 0, 1]) if pk == 3 else 0
            q = {"kind": pool, "kernel": pk, "stride": r.choice([2, 2, 1]) if pk == 3 else 2, "padding": pp,
                 "ceil_mode": r.random() < 0.2}
            if pool == "avg":
                q["count_include_pad"] = r.random() < 0.7
            pooled = [pool_out(x, pk, q["stride"], pp, q["ceil_mode"]) for x in size]
            if min(pooled) < 1:
                continue
            b["pool"], size = q, pooled
        return b, size
    return None, hw


def draw_cnn_features(r):
    f = {"task": r.choices(["classifier", "regressor"], weights=[4, 1])[0]}
    f["channels"] = r.randint(1, 3)
    f["image"] = [r.randint(8, 16), r.randint(8, 16)] if r.random() < 0.3 else [r.randint(8, 16)] * 2
    f["pixels"] = weighted(r, {"normal": 3, "unit": 1})  # inputs N(0,1), or in [0, 1] like MNIST pixels
    f["activation"] = weighted(r, {k: v[0] for k, v in CNN_ACTIVATIONS.items()})
    blocks, channels, hw = [], f["channels"], f["image"]
    for _ in range(r.randint(1, 3)):
        block, out = draw_conv(r, channels, hw)
        if block is None:
            break
        blocks.append(block)
        channels, hw = block["out"], out
    f["blocks"] = blocks  # never empty: a 1x1 conv fits any image of at least 8x8
    f["spatial_out"] = hw
    f["end"] = weighted(r, {"flatten": 5, "global_avgpool": 2, "mean": 1})
    if f["end"] == "flatten" and channels * hw[0] * hw[1] > MAX_FLATTEN:
        f["end"] = "global_avgpool"
    f["flatten_op"] = weighted(r, {"nn.Flatten": 4, "torch.flatten": 2, "view": 1}) if f["end"] != "mean" else None
    f["hidden"] = [r.choice([8, 16, 32, 64])] if r.random() < 0.5 else []
    if f["task"] == "classifier":
        f["n_out"] = r.randint(2, 10)
        f["head"] = weighted(r, {"logits": 6, "softmax": 2, "log_softmax": 1})
    else:
        f["n_out"] = r.choice([1, 2])
        f["head"] = "values"
    f["opset"] = r.randint(11, 17)
    f["static_batch"] = r.random() < 0.15
    f["trained"] = r.random() < 0.75
    return f


class GeneratedCNN(nn.Module):
    def __init__(self, f, r):
        super().__init__()
        self.f = f
        act = CNN_ACTIVATIONS[f["activation"]][1]
        layers, c = [], f["channels"]
        for b in f["blocks"]:
            conv = dict(kernel_size=b["kernel"], stride=b["stride"], padding=b["padding"], dilation=b["dilation"])
            if b["conv"] == "depthwise":
                layers += [nn.Conv2d(c, c, groups=c, **conv)]
                layers += [nn.BatchNorm2d(c)] if b["batchnorm"] == "before_activation" else []
                layers += [act(c, r)]
                layers += [nn.BatchNorm2d(c)] if b["batchnorm"] == "after_activation" else []
                layers += [nn.Conv2d(c, b["out"], 1)]
            else:
                layers += [nn.Conv2d(c, b["out"], **conv)]
            c = b["out"]
            layers += [nn.BatchNorm2d(c)] if b["batchnorm"] == "before_activation" else []
            layers.append(act(c, r))
            layers += [nn.BatchNorm2d(c)] if b["batchnorm"] == "after_activation" else []
            q = b["pool"]
            if q and q["kind"] == "max":
                layers.append(nn.MaxPool2d(q["kernel"], q["stride"], q["padding"], ceil_mode=q["ceil_mode"]))
            if q and q["kind"] == "avg":
                layers.append(nn.AvgPool2d(q["kernel"], q["stride"], q["padding"], ceil_mode=q["ceil_mode"],
                                           count_include_pad=q["count_include_pad"]))
        self.features = nn.Sequential(*layers)
        self.gap = nn.AdaptiveAvgPool2d(1) if f["end"] == "global_avgpool" else None
        self.flatten = nn.Flatten() if f["flatten_op"] == "nn.Flatten" else None
        width = c if f["end"] != "flatten" else c * f["spatial_out"][0] * f["spatial_out"][1]
        dense = []
        for h in f["hidden"]:
            dense += [nn.Linear(width, h), act(h, r)]
            width = h
        dense.append(nn.Linear(width, f["n_out"]))
        self.classifier = nn.Sequential(*dense)

    def logits(self, x):
        f = self.f
        h = self.features(x)
        if f["end"] == "mean":
            h = h.mean(dim=(2, 3))
        else:
            if self.gap is not None:
                h = self.gap(h)
            if f["flatten_op"] == "nn.Flatten":
                h = self.flatten(h)
            elif f["flatten_op"] == "torch.flatten":
                h = torch.flatten(h, 1)
            else:
                h = h.view(h.size(0), -1)
        return self.classifier(h)

    def forward(self, x):
        z = self.logits(x)
        if self.f["head"] == "softmax":
            return torch.softmax(z, dim=1)
        if self.f["head"] == "log_softmax":
            return torch.log_softmax(z, dim=1)
        return z


def cnn_inputs(f, n, generator):
    shape = (n, f["channels"], *f["image"])
    draw = torch.rand if f["pixels"] == "unit" else torch.randn
    return draw(*shape, generator=generator)


def train_cnn(model, f, generator):
    """A moment of Adam on a synthetic image task: a random linear teacher on the 4x4-average-pooled image gives
    the classes (or, for a regressor, sin of it), so the task depends on where in the image things are."""
    x = cnn_inputs(f, N_TRAIN * 2, generator)
    coarse = nn.functional.adaptive_avg_pool2d(x, 4).reshape(len(x), -1)
    coarse = (coarse - coarse.mean(0)) / (coarse.std(0) + 1e-6)
    teacher = torch.randn(coarse.shape[1], f["n_out"], generator=generator)
    if f["task"] == "classifier":
        target, loss_fn = (coarse @ teacher).argmax(1), nn.functional.cross_entropy
    else:
        target, loss_fn = torch.sin(coarse @ teacher) * 2.0, nn.functional.mse_loss
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(80):
        optimizer.zero_grad()
        loss_fn(model.logits(x), target).backward()
        optimizer.step()
    model.eval()


def randomize_cnn_norms(model):
    with torch.no_grad():
        for bn in modules_of(model, nn.BatchNorm2d):
            bn.running_mean.normal_(0.0, 0.3)
            bn.running_var.uniform_(0.3, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0.0, 0.2)


def build_cnn(index, seed):
    r = random.Random(f"mlvm-unseen-cnn:{seed}:{index}")
    torch.manual_seed(r.getrandbits(31))
    f = draw_cnn_features(r)
    model = GeneratedCNN(f, r)
    generator = torch.Generator().manual_seed(r.getrandbits(31))
    model.eval()
    with torch.no_grad():  # the drawn sizes are the real ones (a mismatch would fail the Linear here)
        out = model.features(torch.zeros(1, f["channels"], *f["image"]))
        assert list(out.shape[2:]) == f["spatial_out"], (f, out.shape)
        model.logits(torch.zeros(2, f["channels"], *f["image"]))
    if f["trained"]:
        train_cnn(model, f, generator)
    else:
        randomize_cnn_norms(model)
    model.eval()
    return model, f, generator


def export_cnn(outdir, name, model, f, generator):
    path = os.path.join(outdir, name + ".onnx")
    dynamic_axes = None if f["static_batch"] else {"input": {0: "batch"}, "output": {0: "batch"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, cnn_inputs(f, 1, torch.Generator().manual_seed(0)), path, opset_version=f["opset"],
                          input_names=["input"], output_names=["output"], dynamic_axes=dynamic_axes,
                          do_constant_folding=True)
    inputs = cnn_inputs(f, N_REFERENCE, generator)
    with torch.no_grad():
        out = model(inputs)
        logits = model.logits(inputs)
    ref = {
        "model": name + ".onnx",
        "generated_by": "scripts/export_unseen.py --cnn",
        "torch_version": torch.__version__,
        "opset": f["opset"],
        "outputKind": f["task"],
        "features": f,
        "input_shape": list(inputs.shape[1:]),
        "output_shape": list(out.shape[1:]),
        "inputs": [floats(x) for x in inputs],  # each image flattened row-major (C, H, W)
        "logits": [floats(y) for y in logits],
    }
    if f["head"] == "softmax":
        ref["probabilities"] = [floats(y) for y in out]
    if f["head"] == "log_softmax":
        ref["log_probabilities"] = [floats(y) for y in out]
    write_json(os.path.join(outdir, name + ".reference.json"), ref)
    write_json(os.path.join(outdir, name + ".calibration.json"),
               {"model": name + ".onnx", "generated_by": "scripts/export_unseen.py --cnn",
                "inputs": [floats(x) for x in cnn_inputs(f, N_CALIBRATION, generator)]})
    return {"file": name + ".onnx", "opset": f["opset"], "outputKind": f["task"], "features": f, **onnx_ops(path)}


def cnn_summary(entries):
    counts = collections.defaultdict(collections.Counter)
    for e in entries:
        f = e["features"]
        for key in ("task", "channels", "pixels", "activation", "end", "flatten_op", "head", "opset", "static_batch",
                    "trained"):
            counts[key][str(f[key])] += 1
        counts["conv blocks"][str(len(f["blocks"]))] += 1
        counts["linear layers"][str(len(f["hidden"]) + 1)] += 1
        for b in f["blocks"]:
            for key in ("conv", "kernel", "stride", "padding", "dilation", "batchnorm"):
                counts[f"block {key}"][str(b[key])] += 1
            q = b["pool"]
            pool = "none" if not q else q["kind"] + (" ceil" if q["ceil_mode"] else "") + (
                " pad" if q["padding"] else "") + (" exclude-pad" if q.get("count_include_pad") is False else "")
            counts["block pool"][pool] += 1
        for op in e["ops"]:
            counts["onnx op (models using it)"][op] += 1
    for key, counter in counts.items():
        print(f"{key}: " + ", ".join(f"{k} {v}" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", help="directory to write NAME.onnx, NAME.reference.json, NAME.calibration.json into")
    parser.add_argument("--cnn", action="store_true", help="small convolutional networks instead of MLPs (issue 13)")
    parser.add_argument("--count", type=int, help="number of models (default 60, or 40 with --cnn)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the whole set (default 1)")
    args = parser.parse_args()
    count = args.count if args.count is not None else (40 if args.cnn else 60)
    os.makedirs(args.outdir, exist_ok=True)
    torch.set_num_threads(1)
    entries = []
    for i in range(count):
        if args.cnn:
            model, f, generator = build_cnn(i, args.seed)
            name = f"unseen-cnn-{args.seed}-{i:03d}-{f['task'][0]}"
            entries.append(export_cnn(args.outdir, name, model, f, generator))
        else:
            model, f, generator = build(i, args.seed)
            name = f"unseen-{args.seed}-{i:03d}-{f['task'][0]}"
            entries.append(export_one(args.outdir, name, model, f, generator))
    write_json(os.path.join(args.outdir, "INDEX.json"), entries)
    print(f"wrote {len(entries)} models to {args.outdir}")
    (cnn_summary if args.cnn else summary)(entries)


if __name__ == "__main__":
    main()
