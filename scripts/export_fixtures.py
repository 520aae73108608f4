#!/usr/bin/env python3
"""Export the small PyTorch MLP fixtures the compiler's import tests read.

mlvm never needs Python at run time: this script only (re)generates test fixtures. It builds a few tiny MLPs
with a fixed seed, exports each with torch.onnx.export into fixtures/models/, and writes next to each one a
NAME.reference.json holding a few inputs and PyTorch's float32 outputs for them, so the TypeScript tests can
check the importer plus forwardFloat (compiler/float.ts) against PyTorch itself.

Rerun from the repository root (needs torch; `onnx` is optional and only used to check the exports):

    python3 scripts/export_fixtures.py            # or /usr/bin/python3 on Debian (apt: python3-torch python3-onnx)

The outputs are deterministic for a given torch version (seeded), but float bits may differ across torch
versions or CPUs; the tests compare with a tolerance, so regenerating is harmless. It does not touch the
fixtures/models/mnist-mlp.* files, which come from a separate training run.

Files written (all a few KB):
  matmul-add-sigmoid.onnx  x @ W + b via torch.matmul (exports MatMul + Add), Sigmoid, opset 11
  tanh-softmax.onnx        Linear, Tanh, Linear, Softmax(dim=1) last, opset 17 (softmax is folded by mlvm)
  flatten-input.onnx       input [N,1,4,4], nn.Flatten, Linear, ReLU, Linear, opset 13
  reshape-input.onnx       input [N,2,8], x.reshape(x.shape[0], -1) (a Shape/Gather/Concat subgraph), opset 14
  view-input.onnx          input [N,16], x.view(-1, 16) (Reshape with a Constant shape), Linear, ReLU,
                           Linear(bias=False) (MatMul with no Add), Sigmoid, Linear, opset 12
  conv.onnx                a tiny Conv2d model: must be rejected (unsupported op)
  tiny.json                a Linear-ReLU-Linear-Softmax MLP in mlvm's JSON weights format (docs/json-weights.md)
  NAME.reference.json      for each supported model above: inputs, torch's float32 logits (and probabilities
                           for softmax models; forwardFloat returns the pre-softmax logits)
"""

import json
import os
import sys

import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "models")
SEED = 20240521
N_REFERENCE_INPUTS = 5


class MatMulAddSigmoid(nn.Module):
    """Raw parameters used with torch.matmul so the export is MatMul + Add rather than Gemm."""

    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(6, 8) * 0.5)  # [in, out]: x @ w1
        self.b1 = nn.Parameter(torch.randn(8) * 0.1)
        self.w2 = nn.Parameter(torch.randn(8, 3) * 0.5)
        self.b2 = nn.Parameter(torch.randn(3) * 0.1)

    def forward(self, x):
        h = torch.sigmoid(torch.matmul(x, self.w1) + self.b1)
        return self.b2 + torch.matmul(h, self.w2)  # bias first: the Add has the bias as its first operand


class TanhSoftmax(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 7)
        self.fc2 = nn.Linear(7, 4)

    def logits(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))

    def forward(self, x):
        return torch.softmax(self.logits(x), dim=1)


class FlattenInput(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 3))

    def forward(self, x):
        return self.net(x)


class ReshapeInput(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 10)
        self.fc2 = nn.Linear(10, 2)

    def forward(self, x):
        x = x.reshape(x.shape[0], -1)
        return self.fc2(torch.relu(self.fc1(x)))


class ViewInput(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 9)
        self.fc2 = nn.Linear(9, 9, bias=False)  # exports as MatMul with no Add
        self.fc3 = nn.Linear(9, 4)

    def forward(self, x):
        x = x.view(-1, 16)
        return self.fc3(torch.sigmoid(self.fc2(torch.relu(self.fc1(x)))))


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, kernel_size=3)
        self.fc = nn.Linear(2 * 2 * 2, 3)

    def forward(self, x):
        return self.fc(torch.flatten(torch.relu(self.conv(x)), 1))


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.fc2 = nn.Linear(4, 2)

    def logits(self, x):
        return self.fc2(torch.relu(self.fc1(x)))

    def forward(self, x):
        return torch.softmax(self.logits(x), dim=1)


def export(model, name, input_shape, opset):
    path = os.path.join(OUT, name + ".onnx")
    dummy = torch.zeros(1, *input_shape)
    torch.onnx.export(
        model,
        dummy,
        path,
        opset_version=opset,
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        do_constant_folding=True,
    )
    try:
        import onnx

        onnx.checker.check_model(onnx.load(path))
    except ImportError:
        pass
    return path


def floats(t):
    # float32 values as the exact float64 numbers Python prints (json round-trips them exactly).
    return [float(v) for v in t.reshape(-1).tolist()]


def write_reference(name, model, input_shape, opset, inputs, softmax=False):
    with torch.no_grad():
        outputs = model(inputs)
        logits = model.logits(inputs) if softmax else outputs
    ref = {
        "model": name + ".onnx",
        "generated_by": "scripts/export_fixtures.py",
        "torch_version": torch.__version__,
        "opset": opset,
        "input_shape": list(input_shape),
        "inputs": [floats(x) for x in inputs],  # each input flattened row-major (what Flatten/Reshape produce)
        "logits": [floats(y) for y in logits],  # what forwardFloat returns
    }
    if softmax:
        ref["probabilities"] = [floats(y) for y in outputs]
    with open(os.path.join(OUT, name + ".reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


def onnx_fixture(name, model, input_shape, opset, softmax=False):
    model.eval()
    export(model, name, input_shape, opset)
    inputs = torch.randn(N_REFERENCE_INPUTS, *input_shape)
    write_reference(name, model, input_shape, opset, inputs, softmax)


def tiny_json(model):
    model.eval()
    layers = []
    for module in (model.fc1, "relu", model.fc2, "softmax"):
        if isinstance(module, str):
            layers.append({"type": module})
        else:
            layers.append(
                {
                    "type": "dense",
                    "weights": [floats(row) for row in module.weight.detach()],  # [out][in], as nn.Linear
                    "bias": floats(module.bias.detach()),
                }
            )
    doc = {"format": "mlvm-mlp", "version": 1, "input_size": 3, "layers": layers}
    with open(os.path.join(OUT, "tiny.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    inputs = torch.randn(N_REFERENCE_INPUTS, 3)
    with torch.no_grad():
        ref = {
            "model": "tiny.json",
            "generated_by": "scripts/export_fixtures.py",
            "torch_version": torch.__version__,
            "input_shape": [3],
            "inputs": [floats(x) for x in inputs],
            "logits": [floats(y) for y in model.logits(inputs)],
            "probabilities": [floats(y) for y in model(inputs)],
        }
    with open(os.path.join(OUT, "tiny.reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(SEED)
    onnx_fixture("matmul-add-sigmoid", MatMulAddSigmoid(), (6,), 11)
    onnx_fixture("tanh-softmax", TanhSoftmax(), (5,), 17, softmax=True)
    onnx_fixture("flatten-input", FlattenInput(), (1, 4, 4), 13)
    onnx_fixture("reshape-input", ReshapeInput(), (2, 8), 14)
    onnx_fixture("view-input", ViewInput(), (16,), 12)
    export(ConvNet().eval(), "conv", (1, 4, 4), 13)
    tiny_json(Tiny())
    print("wrote fixtures to", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
