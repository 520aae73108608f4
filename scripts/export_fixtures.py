#!/usr/bin/env python3
"""Export the small PyTorch fixtures (MLPs, CNNs, LeNet-5) the compiler's import tests read.

mlvm never needs Python at run time: this script only (re)generates test fixtures. It builds a few tiny MLPs
with a fixed seed, exports each with torch.onnx.export into fixtures/models/, and writes next to each one a
NAME.reference.json holding a few inputs and PyTorch's float32 outputs for them, so the TypeScript tests can
check the importer plus forwardFloat (compiler/float.ts) against PyTorch itself.

Rerun from the repository root (needs torch, onnx and sklearn):

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

Issue 12 adds one fixture per layer kind as PyTorch exports it (each seeded from its own name; opsets 9 to 17
across the set), listed with its opset, ONNX op types and input/output shapes in INDEX.json:
  leaky-relu prelu prelu-channels elu softplus relu6 hardtanh clip-opset9 gelu gelu-tanh silu   (activations)
  batchnorm batchnorm-after-relu batchnorm-input layernorm-17 layernorm-13                        (normalization)
  log-softmax normalized-input residual squeeze-output rank3-linear two-outputs gemm-transa matrix-bias
  regression-large regression-tiny iris-like    (value ranges; these three also get NAME.calibration.json)
Their NAME.reference.json adds "layer", "outputKind" ("classifier" | "regressor"), "output_shape" (per sample),
"log_probabilities" (the LogSoftmax output; "logits" holds the values before it), "outputs" (each graph
output's values by name, for two-outputs), "batch_axis": 1 (gemm-transa's input is [F, batch]: feed the
transposed batch) and "large_inputs" (iris-like: indices of the rows scaled by 6000, whose outputs are ~1e5).
NAME.calibration.json = {"inputs": [...]}: 32 inputs drawn like the reference inputs (iris-like: Iris rows only).

`onnx` is needed for these (onnx.checker runs on every export; INDEX.json lists each graph's op types).

Issue 13 adds convolutional fixtures (CNN_SPECS: one small Conv/pooling classifier per layer kind, inputs
[C, H, W] flattened row-major in the reference, opsets 11 to 17, an INDEX.json "note" where the export is not the
obvious one: AvgPool2d's Pad node, BatchNorm2d folded into the Conv or not, ReduceMean without Flatten, a fixed
batch):
  conv-k1 conv-k3-p1 conv-k5-p2 conv-k3-p0 conv-s2 conv-p2-s2 conv-dilation2 conv-groups2 conv-depthwise
  conv-nobias conv-rect conv-bn conv-relu-bn conv-static-batch conv-leaky-elu                      (Conv2d)
  maxpool-2 maxpool-3-s2-p1 maxpool-ceil avgpool-2 avgpool-3-p1 avgpool-exclude-pad global-avgpool mean-pool
and LeNet-5, the second bundled model, trained here (about 20 s on one thread) on the MNIST files in
fixtures/mnist: lenet5.onnx (opset 13, input "input" [batch, 1, 28, 28]), lenet5.pt (its state_dict) and
lenet5.reference.json (the keys of mnist-mlp.reference.json, plus "architecture").

    python3 scripts/export_fixtures.py --only cnn       # the issue-13 layer fixtures alone (INDEX.json merged)
    python3 scripts/export_fixtures.py --only lenet5    # LeNet-5 alone
    python3 scripts/export_fixtures.py --only mlp       # the fixtures of earlier issues alone

A full run may rewrite the first six references (matmul-add-sigmoid ... tiny) in their last float32 bits: it did
on the machine that added issue 13 (the script as it was before did too: a CPU/BLAS difference); --only leaves
the other parts' files as they are.
"""

import json
import os
import sys
import zlib

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


class LstmNet(nn.Module):
    """An operator mlvm does not support: nn.LSTM exports as an LSTM node, which the importer must refuse by name."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, batch_first=True)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


def conv_reference():
    """conv.reference.json for the committed conv.onnx (refused before issue 13, so it had none): its weights are read
    back from the ONNX file into ConvNet, so the file itself stays as it was."""
    import onnx
    from onnx import numpy_helper

    model = ConvNet().eval()
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(os.path.join(OUT, "conv.onnx")).graph.initializer}
    model.load_state_dict({name: weights[name] for name in model.state_dict()})
    torch.manual_seed(seed_for("conv"))
    write_reference("conv", model, (1, 4, 4), 13, torch.randn(N_REFERENCE_INPUTS, 1, 4, 4))


def unsupported_fixture():
    """lstm.onnx: the fixture every "unsupported operator" test reads (conv.onnx was it until Conv was supported)."""
    torch.manual_seed(seed_for("lstm"))
    path = export(LstmNet().eval(), "lstm", (5, 3), 13)
    return {"file": "lstm.onnx", "layer": "nn.LSTM (must be rejected)", "opset": 13, "outputKind": "classifier",
            **onnx_ops(path), "expect": "unsupported"}


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.fc2 = nn.Linear(4, 2)

    def logits(self, x):
        return self.fc2(torch.relu(self.fc1(x)))

    def forward(self, x):
        return torch.softmax(self.logits(x), dim=1)


def export(model, name, input_shape, opset, output_names=("output",), batch_axis=0, dynamic=True):
    """torch.onnx.export as a user writes it: named input/outputs, a dynamic batch axis, constant folding on.

    batch_axis 1 exports a features-major input [F, batch] (input_shape is then (F,)); outputs are batch-first.
    dynamic=False exports with no dynamic axes at all: the batch is fixed at 1, as when users forget them."""
    path = os.path.join(OUT, name + ".onnx")
    dummy = torch.zeros(1, *input_shape) if batch_axis == 0 else torch.zeros(*input_shape, 1)
    dynamic_axes = {"input": {batch_axis: "batch"}}
    for output in output_names:
        dynamic_axes[output] = {0: "batch"}
    torch.onnx.export(
        model,
        dummy,
        path,
        opset_version=opset,
        input_names=["input"],
        output_names=list(output_names),
        dynamic_axes=dynamic_axes if dynamic else None,
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


# ---------------------------------------------------------------------------------------------------------------
# Issue 12: one small fixture per layer kind, exported the way PyTorch users write it. Each fixture seeds torch
# from its own name, so adding, removing or reordering fixtures leaves the others' files unchanged (and the
# fixtures above, which share one seed stream, are not affected at all: they are exported first).

N_LAYER_INPUTS = 8
N_CALIBRATION_INPUTS = 32
LARGE_IRIS_FACTOR = 6000.0  # iris-like's last reference rows are 3 Iris rows × this: outputs ~1e5, beyond Q16.16


def seed_for(name):
    return (SEED ^ zlib.crc32(name.encode())) & 0x7FFFFFFF


def scaled(linear, factor):
    """Multiply a Linear's weight and bias in place, so the pre-activations reach the interesting part of an
    activation (Hardtanh's and ReLU6's bounds, ELU's negative side) on N(0,1) inputs."""
    with torch.no_grad():
        linear.weight.mul_(factor)
        if linear.bias is not None:
            linear.bias.mul_(factor)
    return linear


def mlp(make_activation, gain=1.0, n_in=6, hidden=(12, 8), n_out=3):
    """Linear → act → Linear → act → Linear, as in every tutorial: each activation sits between two dense layers
    (and an importer must find its export pattern twice). make_activation builds a fresh module per use."""
    layers = []
    width = n_in
    for h in hidden:
        layers += [scaled(nn.Linear(width, h), gain), make_activation(h)]
        width = h
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def random_prelu(size):
    """nn.PReLU initialises every slope to 0.25; set them from the seed so the slopes are distinct."""
    layer = nn.PReLU(num_parameters=size)
    with torch.no_grad():
        layer.weight.uniform_(0.05, 0.5)
    return layer


def randomize_batchnorm(bn, mean_scale=0.3, mean_offset=0.0):
    """BatchNorm1d with running statistics and affine parameters as after training (eval mode reads them)."""
    with torch.no_grad():
        bn.running_mean.normal_(0.0, mean_scale).add_(mean_offset)
        bn.running_var.uniform_(0.2, 2.0)
        bn.weight.uniform_(0.5, 1.5).mul_(torch.where(torch.rand(bn.num_features) < 0.2, -1.0, 1.0))
        bn.bias.normal_(0.0, 0.3)
    return bn


def randomize_layernorm(ln):
    with torch.no_grad():
        ln.weight.uniform_(0.5, 1.5)
        ln.bias.normal_(0.0, 0.3)
    return ln


def layernorm_mlp():
    # Exported twice from the same seed (so with the same weights and reference): at opset 17 and at opset 13.
    return nn.Sequential(nn.Linear(6, 12), randomize_layernorm(nn.LayerNorm(12)), nn.ReLU(), nn.Linear(12, 3))


class ClampOpset9(nn.Module):
    """torch.clamp in forward: at opset 9 Clip carries min/max as attributes (inputs from opset 11 on); the second
    clamp is one-sided (only max), so the exported Clip has no min."""

    def __init__(self):
        super().__init__()
        self.fc1 = scaled(nn.Linear(6, 12), 3.0)
        self.fc2 = scaled(nn.Linear(12, 8), 2.0)
        self.fc3 = nn.Linear(8, 3)

    def forward(self, x):
        h = torch.clamp(self.fc1(x), -1.5, 1.5)
        h = torch.clamp(self.fc2(h), max=0.5)
        return self.fc3(h)


class NormalizedInput(nn.Module):
    """Input standardisation written into forward with per-feature constants: exports Sub and Div by
    initializers before the first Gemm. Its reference inputs are raw data, MEAN + STD·N(0,1)."""

    def __init__(self, n_in=6):
        super().__init__()
        self.register_buffer("mean", torch.randn(n_in) * 3.0)
        self.register_buffer("std", torch.rand(n_in) * 4.5 + 0.5)
        self.fc1 = nn.Linear(n_in, 10)
        self.fc2 = nn.Linear(10, 3)

    def forward(self, x):
        x = (x - self.mean) / self.std
        return self.fc2(torch.relu(self.fc1(x)))


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 10)
        self.fc2 = nn.Linear(10, 10)
        self.fc3 = nn.Linear(10, 3)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        return self.fc3(h + torch.relu(self.fc2(h)))


class SqueezeOutput(nn.Module):
    """A one-output regressor returning shape [N] (fc(x).squeeze(-1)), as for an MSELoss against a 1-D target."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 10)
        self.fc2 = nn.Linear(10, 1)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x))).squeeze(-1)


class TwoOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 10)
        self.fc2 = nn.Linear(10, 4)

    def forward(self, x):
        logits = self.fc2(torch.relu(self.fc1(x)))
        return logits, torch.softmax(logits, dim=1)


class FeaturesMajor(nn.Module):
    """Input laid out features × batch ([F, N], as column-major data); Linear on x.t(): torch fuses the Transpose
    into the Gemm, which then has transA=1 (and transB=1 from nn.Linear)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 10)
        self.fc2 = nn.Linear(10, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x.t())))


class MatrixBias(nn.Module):
    """Biases stored as [1, out] rows: torch.addmm with a [1, out] bias exports a Gemm whose C is [1, out]
    (no transB); x @ W + b with a [1, out] b exports MatMul + Add of a [1, out] initializer."""

    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(6, 10) * 0.5)
        self.b1 = nn.Parameter(torch.randn(1, 10) * 0.2)
        self.w2 = nn.Parameter(torch.randn(10, 3) * 0.5)
        self.b2 = nn.Parameter(torch.randn(1, 3) * 0.2)

    def forward(self, x):
        h = torch.relu(torch.addmm(self.b1, x, self.w1))
        return h @ self.w2 + self.b2


def regression_large():
    """Outputs ~1e4..1e5 (prices in dollars, say): hidden values up to ~10 (first layers × 4 and × 2), final
    weights ~N(0, 3000²) and biases ~U(5e4, 8e4), so the outputs vary by ~1e4 from input to input."""
    model = nn.Sequential(scaled(nn.Linear(6, 16), 4.0), nn.ReLU(), scaled(nn.Linear(16, 16), 2.0), nn.ReLU(),
                          nn.Linear(16, 2))
    with torch.no_grad():
        model[4].weight.normal_(0.0, 3000.0)
        model[4].bias.uniform_(5e4, 8e4)
    return model


def regression_tiny():
    """Hidden activations ~1e-4 (first layer weights and bias × 1e-4, second layer bias × 1e-4; tanh is linear
    there), output O(1) (last layer weights × 1e4)."""
    model = nn.Sequential(nn.Linear(5, 12), nn.Tanh(), nn.Linear(12, 8), nn.Tanh(), nn.Linear(8, 1))
    scaled(model[0], 1e-4)
    with torch.no_grad():
        model[2].bias.mul_(1e-4)
        model[4].weight.mul_(1e4)
    return model


def iris_like():
    """4-16-3 ReLU classifier trained briefly on sklearn's Iris (raw features in cm, as users feed them)."""
    from sklearn.datasets import load_iris

    data = load_iris()
    x = torch.tensor(data.data, dtype=torch.float32)
    y = torch.tensor(data.target, dtype=torch.long)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(300):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    print(f"iris-like: training accuracy {accuracy:.3f}", file=sys.stderr)
    model.iris_x = x  # a plain attribute (not a buffer): the reference inputs are drawn from it, not exported
    return model


def onnx_ops(path):
    import onnx

    model = onnx.load(path)
    onnx.checker.check_model(model)

    def shape(value):
        return [d.dim_param if d.dim_param else d.dim_value for d in value.type.tensor_type.shape.dim]

    graph = model.graph
    return {
        "ops": sorted({node.op_type for node in graph.node}),
        "inputs": {v.name: shape(v) for v in graph.input},
        "outputs": {v.name: shape(v) for v in graph.output},
    }


def layer_fixture(name, layer, opset, build, input_shape=(6,), kind="classifier", head=None,
                  output_names=("output",), batch_axis=0, draw=None, calibration=False, extra_inputs=None, seed=None,
                  dynamic=True, note=None):
    """Export one model and write NAME.reference.json (and NAME.calibration.json when asked).

    head: None (the output is the logits / the regression values), "softmax" or "log_softmax" (a Sequential's
    last module, folded by mlvm: "logits" holds the values before it) or "two" (forward returns (logits, probs)).
    draw(model, n) draws n inputs (default N(0,1)); extra_inputs(inputs) appends rows (e.g. very large ones);
    seed names the seed when two fixtures export the same model (default: the fixture's name); dynamic=False
    exports a fixed batch of 1; note (a string) goes into the INDEX.json entry (an export an importer must know)."""
    torch.manual_seed(seed_for(seed or name))
    model = build()
    model.eval()
    path = export(model, name, input_shape, opset, output_names, batch_axis, dynamic)
    draw = draw or (lambda _, n: torch.randn(n, *input_shape))
    inputs = draw(model, N_LAYER_INPUTS)
    large = []
    if extra_inputs is not None:
        more = extra_inputs(inputs)
        large = list(range(len(inputs), len(inputs) + len(more)))
        inputs = torch.cat([inputs, more])
    feed = inputs.t() if batch_axis == 1 else inputs
    with torch.no_grad():
        out = model(feed)
        if head in ("softmax", "log_softmax"):
            logits = model[:-1](feed)
        elif head == "two":
            logits, out = out
        else:
            logits = out
    ref = {
        "model": name + ".onnx",
        "generated_by": "scripts/export_fixtures.py",
        "torch_version": torch.__version__,
        "opset": opset,
        "layer": layer,
        "outputKind": kind,
        "input_shape": list(input_shape),
    }
    if batch_axis != 0:
        ref["batch_axis"] = batch_axis  # the ONNX input is [F, batch]: feed the transposed batch
    ref["output_shape"] = list((out[0] if head == "two" else out).shape[1:])
    ref["inputs"] = [floats(x) for x in inputs]
    ref["logits"] = [floats(y) for y in logits]
    if head in ("softmax", "two"):
        ref["probabilities"] = [floats(y) for y in out]
    if head == "log_softmax":
        ref["log_probabilities"] = [floats(y) for y in out]
    if head == "two":
        ref["outputs"] = {output_names[0]: ref["logits"], output_names[1]: ref["probabilities"]}
    if large:
        ref["large_inputs"] = large  # row indices whose true outputs are far beyond ±32768
    with open(os.path.join(OUT, name + ".reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    if calibration:
        cal = {"model": name + ".onnx", "generated_by": "scripts/export_fixtures.py",
               "inputs": [floats(x) for x in draw(model, N_CALIBRATION_INPUTS)]}
        with open(os.path.join(OUT, name + ".calibration.json"), "w") as f:
            json.dump(cal, f, indent=1)
            f.write("\n")
    info = onnx_ops(path)
    entry = {"file": name + ".onnx", "layer": layer, "opset": opset, "outputKind": kind, **info}
    if note:
        entry["note"] = note
    return entry


def old_opset_mlp():
    return nn.Sequential(nn.Linear(6, 10), randomize_batchnorm(nn.BatchNorm1d(10)), nn.LeakyReLU(0.1),
                         nn.Linear(10, 8), nn.Hardtanh(-1.0, 1.0), nn.Linear(8, 3))


def layer_fixtures():
    """Every layer kind of issue 12; returns the INDEX.json entries."""

    def iris_draw(model, n):
        # Iris rows (a seeded sample), not N(0,1): the model was trained on the raw measurements in cm.
        return model.iris_x[torch.randperm(len(model.iris_x))[:n]]

    def raw_draw(model, n):
        # Raw features around the model's own MEAN/STD, so that the standardised values are ~N(0,1).
        return model.mean + model.std * torch.randn(n, len(model.mean))

    specs = [
        ("leaky-relu", "LeakyReLU(0.1)", 9, lambda: mlp(lambda _: nn.LeakyReLU(0.1))),
        ("prelu", "PReLU (one slope)", 10, lambda: mlp(lambda _: random_prelu(1))),
        ("prelu-channels", "PReLU(num_parameters=F)", 11, lambda: mlp(random_prelu)),
        ("elu", "ELU(alpha=0.7)", 12, lambda: mlp(lambda _: nn.ELU(alpha=0.7), gain=1.5)),
        ("softplus", "Softplus", 13, lambda: mlp(lambda _: nn.Softplus(), gain=2.0)),
        ("relu6", "ReLU6 (Clip)", 14, lambda: mlp(lambda _: nn.ReLU6(), gain=8.0)),
        ("hardtanh", "Hardtanh(-2, 2) (Clip)", 11, lambda: mlp(lambda _: nn.Hardtanh(-2.0, 2.0), gain=4.0)),
        ("clip-opset9", "torch.clamp (Clip attributes)", 9, ClampOpset9),
        ("gelu", "GELU (exact: Div/Erf/Add/Mul/Mul)", 15, lambda: mlp(lambda _: nn.GELU(), gain=2.0)),
        ("gelu-tanh", "GELU(approximate='tanh')", 16, lambda: mlp(lambda _: nn.GELU(approximate="tanh"), gain=2.0)),
        ("silu", "SiLU (Sigmoid·Mul)", 14, lambda: mlp(lambda _: nn.SiLU(), gain=2.0)),
        ("batchnorm", "Linear → BatchNorm1d → ReLU", 15,
         lambda: nn.Sequential(nn.Linear(6, 12), randomize_batchnorm(nn.BatchNorm1d(12)), nn.ReLU(), nn.Linear(12, 3))),
        ("batchnorm-after-relu", "ReLU → BatchNorm1d → Linear", 9,
         lambda: nn.Sequential(nn.Linear(6, 12), nn.ReLU(), randomize_batchnorm(nn.BatchNorm1d(12), 0.15, 0.3),
                               nn.Linear(12, 3))),
        ("batchnorm-input", "BatchNorm1d on the input", 14,
         lambda: nn.Sequential(randomize_batchnorm(nn.BatchNorm1d(6), 1.0), nn.Linear(6, 10), nn.ReLU(), nn.Linear(10, 3))),
        ("layernorm-17", "LayerNorm (LayerNormalization op)", 17,
         layernorm_mlp, dict(seed="layernorm")),
        ("layernorm-13", "LayerNorm (opset-13 decomposition)", 13, layernorm_mlp, dict(seed="layernorm")),
        ("log-softmax", "LogSoftmax(dim=1) head", 10,
         lambda: nn.Sequential(nn.Linear(6, 10), nn.ReLU(), nn.Linear(10, 4), nn.LogSoftmax(dim=1)),
         dict(head="log_softmax")),
        ("normalized-input", "(x - MEAN) / STD in forward", 11, NormalizedInput, dict(draw=raw_draw)),
        ("residual", "residual h + relu(fc2(h))", 16, Residual),
        ("squeeze-output", "fc(x).squeeze(-1) regressor", 13, SqueezeOutput, dict(kind="regressor")),
        ("rank3-linear", "Linear on [N, 1, F]", 12,
         lambda: nn.Sequential(nn.Linear(6, 10), nn.ReLU(), nn.Linear(10, 3)), dict(input_shape=(1, 6))),
        ("two-outputs", "two outputs (logits, softmax)", 17, TwoOutputs,
         dict(head="two", output_names=("logits", "probs"))),
        ("gemm-transa", "Gemm transA=1 (features-major input)", 11, FeaturesMajor, dict(batch_axis=1)),
        ("matrix-bias", "[1, out] bias (Gemm C, MatMul + Add)", 10, MatrixBias),
        ("regression-large", "regressor with outputs ~5e4", 13, regression_large,
         dict(kind="regressor", calibration=True)),
        ("regression-tiny", "hidden activations ~1e-4", 12, regression_tiny,
         dict(kind="regressor", input_shape=(5,), calibration=True)),
        ("iris-like", "Iris 4-16-3 classifier (trained)", 11, iris_like,
         dict(input_shape=(4,), calibration=True, draw=iris_draw, extra_inputs=lambda rows: rows[:3] * LARGE_IRIS_FACTOR)),
        # The oldest opsets mlvm reads (BatchNormalization with its opset-7 attributes, Clip with attributes).
        ("opset7", "BatchNorm1d, LeakyReLU, Hardtanh at opset 7", 7, old_opset_mlp),
        ("opset8", "BatchNorm1d, LeakyReLU, Hardtanh at opset 8", 8, old_opset_mlp),
    ]
    return [layer_fixture(*spec[:4], **(spec[4] if len(spec) > 4 else {})) for spec in specs]


# ---------------------------------------------------------------------------------------------------------------
# Issue 13: one small convolutional classifier per layer kind (kernel 1/3/5, stride, padding, dilation, groups,
# BatchNorm2d, max/average/global pooling), inputs [C, H, W] N(0,1) flattened row-major (C, H, W) in the
# reference, seeded from each fixture's name like the issue-12 fixtures, opsets 11..17 across the set.


def conv_classifier(features, input_shape, n_classes=3):
    """features (conv/pool/activation modules) → Flatten → Linear to n_classes, the Linear's width found by running
    the features once on a zero image."""
    with torch.no_grad():
        width = nn.Sequential(*features)(torch.zeros(1, *input_shape)).numel()
    return nn.Sequential(*features, nn.Flatten(), nn.Linear(width, n_classes))


class MeanPool(nn.Module):
    """Global average pooling written as x.mean(dim=(2, 3)): exports ReduceMean (axes [2, 3], keepdims 0)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.fc = nn.Linear(6, 4)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3)))


def conv_bn():
    return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), randomize_batchnorm(nn.BatchNorm2d(6)), nn.ReLU())


CNN_SPECS = [
    # name, layer, opset, features (built after seeding), input_shape, options
    ("conv-k1", "Conv2d 1x1, 4→8 channels", 11,
     lambda: [nn.Conv2d(4, 8, 1), nn.ReLU()], (4, 6, 6)),
    ("conv-k3-p1", "Conv2d 3x3 padding 1, 3→6", 12,
     lambda: [nn.Conv2d(3, 6, 3, padding=1), nn.ReLU()], (3, 8, 8)),
    ("conv-k5-p2", "Conv2d 5x5 padding 2, 1→4", 13,
     lambda: [nn.Conv2d(1, 4, 5, padding=2), nn.ReLU()], (1, 10, 10)),
    ("conv-k3-p0", "Conv2d 3x3 no padding, 2→4", 14,
     lambda: [nn.Conv2d(2, 4, 3), nn.ReLU()], (2, 7, 7)),
    ("conv-s2", "Conv2d 3x3 stride 2 padding 1, odd size 9x9", 15,
     lambda: [nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.ReLU()], (2, 9, 9)),
    ("conv-p2-s2", "Conv2d 5x5 stride 2 padding 2", 16,
     lambda: [nn.Conv2d(2, 4, 5, stride=2, padding=2), nn.ReLU()], (2, 10, 10)),
    ("conv-dilation2", "Conv2d 3x3 dilation 2 padding 2", 17,
     lambda: [nn.Conv2d(2, 4, 3, dilation=2, padding=2), nn.ReLU()], (2, 8, 8)),
    ("conv-groups2", "Conv2d 4→8 groups 2", 11,
     lambda: [nn.Conv2d(4, 8, 3, padding=1, groups=2), nn.ReLU()], (4, 6, 6)),
    ("conv-depthwise", "depthwise 3x3 (groups 6) + pointwise 1x1 (MobileNet block)", 12,
     lambda: [nn.Conv2d(6, 6, 3, padding=1, groups=6), nn.ReLU(), nn.Conv2d(6, 8, 1), nn.ReLU()], (6, 6, 6)),
    ("conv-nobias", "Conv2d bias=False", 13,
     lambda: [nn.Conv2d(3, 4, 3, bias=False), nn.ReLU()], (3, 6, 6)),
    ("conv-rect", "Conv2d kernel (3,5) stride (1,2) padding (1,2) on 7x10", 14,
     lambda: [nn.Conv2d(2, 4, (3, 5), stride=(1, 2), padding=(1, 2)), nn.ReLU()], (2, 7, 10)),
    ("conv-bn", "Conv2d → BatchNorm2d → ReLU", 15,
     lambda: [conv_bn()], (3, 6, 6),
     dict(note="torch folds the eval-mode BatchNorm2d into the Conv's weights and bias: no BatchNormalization node")),
    ("conv-relu-bn", "Conv2d → ReLU → BatchNorm2d", 14,
     lambda: [nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), randomize_batchnorm(nn.BatchNorm2d(4), 0.3, 0.5)], (2, 6, 6),
     dict(note="a BatchNorm2d after the activation cannot be folded by torch: BatchNormalization on [N, C, H, W]")),
    ("maxpool-2", "Conv2d → ReLU → MaxPool2d(2)", 16,
     lambda: [nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)], (1, 8, 8)),
    ("maxpool-3-s2-p1", "MaxPool2d(3, stride 2, padding 1) on mostly negative inputs", 17,
     lambda: [nn.MaxPool2d(3, stride=2, padding=1)], (2, 8, 8),
     dict(draw=lambda _, n: torch.randn(n, 2, 8, 8) - 1.5,
          note="inputs are N(-1.5, 1): a padded cell must be ignored (-inf), not read as 0")),
    ("maxpool-ceil", "Conv2d → MaxPool2d(2, ceil_mode=True) on 7x7", 11,
     lambda: [nn.Conv2d(2, 4, 3, padding=1), nn.MaxPool2d(2, ceil_mode=True)], (2, 7, 7),
     dict(note="no activation after the pool: the last row/column windows hold 1-2 cells, some all negative")),
    ("avgpool-2", "Conv2d → ReLU → AvgPool2d(2)", 12,
     lambda: [nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2)], (1, 8, 8),
     dict(note="count_include_pad=True (the default) exports Constant + Pad (pads all 0 here) before AveragePool")),
    ("avgpool-3-p1", "AvgPool2d(3, stride 1, padding 1), count_include_pad=True", 13,
     lambda: [nn.Conv2d(2, 4, 3, padding=1), nn.AvgPool2d(3, stride=1, padding=1), nn.ReLU()], (2, 6, 6),
     dict(note="the padding is a Pad node (Constant pads [0,0,1,1,0,0,1,1], zeros) before an AveragePool with "
               "pads 0: the zeros count in the average")),
    ("avgpool-exclude-pad", "AvgPool2d(3, stride 1, padding 1), count_include_pad=False", 14,
     lambda: [nn.Conv2d(2, 4, 3, padding=1), nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
              nn.ReLU()], (2, 6, 6),
     dict(note="AveragePool pads 1 with count_include_pad 0 (the attribute's default): divide by the cells inside")),
    ("global-avgpool", "Conv2d → ReLU → AdaptiveAvgPool2d(1) (GlobalAveragePool)", 15,
     lambda: [nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1)], (3, 6, 6)),
    ("mean-pool", "x.mean(dim=(2, 3)) global pooling (ReduceMean)", 16, MeanPool, (3, 6, 6),
     dict(plain=True, note="ReduceMean axes [2, 3] keepdims 0 gives [N, C] directly: no Flatten before the Gemm")),
    ("conv-static-batch", "Conv2d model exported with no dynamic axes (batch 1)", 17,
     lambda: [nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)], (2, 6, 6),
     dict(dynamic=False, note="no dynamic axes: input and output shapes have batch 1")),
    ("conv-leaky-elu", "Conv2d → LeakyReLU → Conv2d → ELU", 13,
     lambda: [nn.Conv2d(2, 4, 3, padding=1), nn.LeakyReLU(0.1), nn.Conv2d(4, 4, 3, padding=1), nn.ELU()],
     (2, 6, 6)),
]


def cnn_fixtures():
    """Every layer kind of issue 13; returns the INDEX.json entries."""
    entries = []
    for name, layer, opset, features, input_shape, *rest in CNN_SPECS:
        options = dict(rest[0]) if rest else {}
        plain = options.pop("plain", False)
        build = features if plain else (lambda f=features, s=input_shape: conv_classifier(f(), s))
        entries.append(layer_fixture(name, layer, opset, build, input_shape=input_shape, **options))
    return entries


# ---------------------------------------------------------------------------------------------------------------
# Issue 13: LeNet-5, the second bundled model, trained here on the MNIST files the project ships (no torchvision,
# no download): t10k[0:8000] to train, t10k[8000:10000] held out, as for mnist-mlp. Deterministic: one seed,
# torch.use_deterministic_algorithms, LENET_THREADS threads, a seeded shuffle.

MNIST = os.path.join(ROOT, "fixtures", "mnist")
LENET_EPOCHS = 12
LENET_BATCH = 64
LENET_THREADS = 1
LENET_ARCHITECTURE = ("Conv2d(1,6,5,padding=2) ReLU MaxPool2d(2) Conv2d(6,16,5) ReLU MaxPool2d(2) Flatten "
                      "Linear(400,120) ReLU Linear(120,84) ReLU Linear(84,10)")


def read_idx(name):
    """An MNIST IDX file (gzip): magic 0x0803 images [N, 28, 28] as uint8, or 0x0801 labels [N]."""
    import gzip
    import struct

    with gzip.open(os.path.join(MNIST, name), "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 0x0803:
        rows, cols = struct.unpack(">II", data[8:16])
        return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).reshape(count, rows, cols)
    if magic == 0x0801:
        return torch.frombuffer(bytearray(data[8:]), dtype=torch.uint8).reshape(count)
    raise ValueError(f"{name}: not an IDX image or label file (magic {magic:#x})")


def lenet5_model():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


def lenet5():
    """Train LeNet-5 (Adam, LENET_EPOCHS epochs of t10k[0:8000]) and write lenet5.onnx, .pt, .reference.json."""
    import time

    torch.set_num_threads(LENET_THREADS)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed_for("lenet5"))
    images = read_idx("t10k-images-idx3-ubyte.gz").float().div(255.0).unsqueeze(1)  # [N, 1, 28, 28] in [0, 1]
    labels = read_idx("t10k-labels-idx1-ubyte.gz").long()
    train_x, train_y = images[:8000], labels[:8000]
    test_x, test_y = images[8000:10000], labels[8000:10000]
    model = lenet5_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    shuffle = torch.Generator().manual_seed(seed_for("lenet5-shuffle"))
    start = time.time()
    for epoch in range(LENET_EPOCHS):
        model.train()
        order = torch.randperm(len(train_x), generator=shuffle)
        for i in range(0, len(order), LENET_BATCH):
            batch = order[i:i + LENET_BATCH]
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(train_x[batch]), train_y[batch]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
        print(f"lenet5: epoch {epoch + 1}/{LENET_EPOCHS}, held-out accuracy {accuracy:.4f}, "
              f"{time.time() - start:.1f} s", file=sys.stderr)
    model.eval()
    torch.save(model.state_dict(), os.path.join(OUT, "lenet5.pt"))
    export(model, "lenet5", (1, 28, 28), 13)
    with torch.no_grad():
        logits = model(test_x)
    predictions = logits.argmax(1)
    correct = int((predictions == test_y).sum())
    ref = {
        "model": "lenet5.onnx",
        "architecture": LENET_ARCHITECTURE,
        "trained_on": "t10k[0:8000] scaled to [0,1]",
        "evaluated_on": "t10k[8000:10000]",
        "float32_accuracy": correct / len(test_y),
        "float32_predictions": [int(p) for p in predictions],
        "float32_logits_first20": [floats(row) for row in logits[:20]],
    }
    with open(os.path.join(OUT, "lenet5.reference.json"), "w") as f:
        json.dump(ref, f)
    print(f"lenet5: float32 accuracy {correct}/{len(test_y)} = {correct / len(test_y):.4f} on t10k[8000:10000], "
          f"trained in {time.time() - start:.1f} s ({LENET_THREADS} thread(s))", file=sys.stderr)


def write_index(entries):
    with open(os.path.join(OUT, "INDEX.json"), "w") as f:
        json.dump(entries, f, indent=1)
        f.write("\n")


def earlier_fixture_entries():
    """INDEX.json entries for the fixtures exported before issue 12 (same seeds and files as ever)."""
    entries = []
    for name, layer, opset, kind in (
        ("matmul-add-sigmoid", "MatMul + Add, Sigmoid", 11, "classifier"),
        ("tanh-softmax", "Tanh, Softmax head", 17, "classifier"),
        ("flatten-input", "nn.Flatten input [N,1,4,4]", 13, "classifier"),
        ("reshape-input", "x.reshape(N, -1) (Shape/Gather/Concat)", 14, "classifier"),
        ("view-input", "x.view(-1, 16), Linear(bias=False)", 12, "classifier"),
        ("conv", "Conv2d 3×3 on [N,1,4,4] (refused before issue 13; no reference outputs)", 13, "classifier"),
    ):
        info = onnx_ops(os.path.join(OUT, name + ".onnx"))
        entry = {"file": name + ".onnx", "layer": layer, "opset": opset, "outputKind": kind, **info}
        entries.append(entry)
    return entries


def merge_index(entries):
    """INDEX.json with these entries replacing (or appended after) the ones of the same files: --only cnn keeps the
    other fixtures' entries as they are."""
    with open(os.path.join(OUT, "INDEX.json")) as f:
        index = json.load(f)
    mine = {e["file"] for e in entries}
    write_index([e for e in index if e["file"] not in mine] + entries)


def main():
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["mlp", "cnn", "lenet5", "unsupported"],
                        help="export only this part: mlp (the fixtures before issue 13), cnn (issue 13's layer "
                             "fixtures, merged into INDEX.json) or lenet5 (trains it: about 20 s); default all")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if args.only in (None, "mlp"):
        torch.manual_seed(SEED)
        onnx_fixture("matmul-add-sigmoid", MatMulAddSigmoid(), (6,), 11)
        onnx_fixture("tanh-softmax", TanhSoftmax(), (5,), 17, softmax=True)
        onnx_fixture("flatten-input", FlattenInput(), (1, 4, 4), 13)
        onnx_fixture("reshape-input", ReshapeInput(), (2, 8), 14)
        onnx_fixture("view-input", ViewInput(), (16,), 12)
        export(ConvNet().eval(), "conv", (1, 4, 4), 13)
        conv_reference()
        tiny_json(Tiny())
        entries = earlier_fixture_entries() + layer_fixtures() + [unsupported_fixture()]
        if args.only is None:
            entries += cnn_fixtures()
            write_index(entries)
        else:
            merge_index(entries)
    if args.only == "cnn":
        merge_index(cnn_fixtures())
    if args.only == "unsupported":
        conv_reference()
        merge_index(earlier_fixture_entries() + [unsupported_fixture()])
    if args.only in (None, "lenet5"):
        lenet5()
    print("wrote fixtures to", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
