/**
 * Folding what is linear at compile time: every `affine` layer (BatchNorm, constant Sub/Mul/Div/Add, input
 * normalization) disappears into a neighbouring dense or conv layer, so the VM never executes it as such.
 *
 * For an affine layer A (y = x·s + t):
 *   - into the affine that consumes it, when that is its only consumer (the two compose);
 *   - into the dense layer D that consumes it, when D is its only consumer: D's W·diag(s), bias b + W·t
 *     (this also folds a normalization of the graph input into the first dense layer);
 *   - into the conv layer that consumes it, when that is its only consumer, s and t are constant over each
 *     channel's plane, and the conv has no padding or t = 0 (a padded cell is 0, not t): W[o][c] ·= s[c],
 *     b[o] += Σ W[o][c]·t[c] over the taps;
 *   - else into the dense layer P that produces it, when A is P's only consumer: P's rows scaled by s, its bias
 *     b·s + t; likewise into a conv that produces it, per output channel (BatchNorm2d after Conv2d);
 *   - else, on an image with s and t constant per channel (BatchNorm2d after an activation or on the input),
 *     it becomes a depthwise 1×1 conv (groups = channels): C weights, where a dense layer would need (C·H·W)²;
 *   - else it becomes an n×n diagonal dense layer. That is exact but costs n² weights and n² multiply-adds,
 *     where the affine was n; it happens when the affine sits between two non-linear layers, or its producer
 *     feeds more than one layer (e.g. a per-channel PRelu's decomposition).
 * Whether a value is an image is known from the layer that made it (conv, pool, the graph's inputShape) and
 * passed on by the layers that keep the layout (activations, affine, add, layernorm).
 * Also here: compactGraph (dead layers dropped, indices renumbered) and mergeBiasAdds (only the shift-only
 * affines that a bias Add after MatMul makes, into that MatMul's bias), which the ONNX importer uses.
 * Every function is pure: it returns a new graph and leaves the argument's arrays alone.
 */
import { INPUT, inputOf, layerSize } from "./graph.js";
import type { AffineLayer, ConvLayer, DenseLayer, ImageShape, Layer, ModelGraph } from "./graph.js";

/** A layer with its `input` resolved (absolute, never defaulted). */
type Absolute = Layer & { input: number };

/** Removes every affine layer (see the header). */
export function foldGraph(graph: ModelGraph): ModelGraph {
  return fold(graph, false);
}

/** Folds only the affine layers with scale 1 into the dense layer that produces them (a MatMul + Add bias). */
export function mergeBiasAdds(graph: ModelGraph): ModelGraph {
  return fold(graph, true);
}

/**
 * The graph whose output is layer `output` of `layers` (inputs absolute): layers it does not depend on are
 * dropped, the rest renumbered, `input` left out where it is the default (the previous layer).
 */
export function compactGraph(head: Omit<ModelGraph, "layers" | "inputSize" | "outputSize"> & { inputSize: number }, layers: readonly (Absolute | null)[], output: number): ModelGraph {
  const live = new Set<number>();
  const visit = (i: number) => {
    if (i === INPUT || live.has(i)) return;
    live.add(i);
    const layer = layers[i]!;
    visit(layer.input);
    if (layer.kind === "add") visit(layer.other);
  };
  visit(output);
  const kept = [...live].sort((a, b) => a - b);
  const renumber = new Map<number, number>([[INPUT, INPUT]]);
  kept.forEach((old, index) => renumber.set(old, index));
  const out: Layer[] = kept.map((old, index) => {
    const { input, ...rest } = layers[old]!;
    const layer = { ...rest } as Layer;
    const from = renumber.get(input)!;
    if (from !== index - 1) layer.input = from;
    if (layer.kind === "add") layer.other = renumber.get(layer.other)!;
    return layer;
  });
  const outputSize = out.length > 0 ? layerSize(out[out.length - 1]) : head.inputSize;
  return { ...head, outputSize, layers: out };
}

function fold(graph: ModelGraph, biasesOnly: boolean): ModelGraph {
  const layers: (Absolute | null)[] = graph.layers.map((layer, i) => copyLayer(layer, inputOf(graph, i)));
  let output = graph.layers.length - 1;
  const shapes = imageShapes(graph);
  const imageOf = (ref: number) => (ref === INPUT ? graph.inputShape : shapes[ref]);

  /** Who reads layer i: [index, role] pairs; the graph output counts as a reader that is not a layer. */
  const readers = (i: number): { index: number; role: "input" | "other" }[] => {
    const found: { index: number; role: "input" | "other" }[] = [];
    layers.forEach((l, j) => {
      if (!l) return;
      if (l.input === i) found.push({ index: j, role: "input" });
      if (l.kind === "add" && l.other === i) found.push({ index: j, role: "other" });
    });
    return found;
  };
  /** Every reader of layer `from` (and the graph output) reads `to` instead; `from` is removed. */
  const replace = (from: number, to: number) => {
    for (const l of layers) {
      if (!l) continue;
      if (l.input === from) l.input = to;
      if (l.kind === "add" && l.other === from) l.other = to;
    }
    if (output === from) output = to;
    layers[from] = null;
  };

  for (let i = 0; i < layers.length; i++) {
    const a = layers[i];
    if (!a || a.kind !== "affine") continue;
    const isOutput = output === i;
    const users = readers(i);
    const sole = users.length === 1 && !isOutput && users[0].role === "input" ? layers[users[0].index]! : undefined;
    const producer = a.input === INPUT ? undefined : layers[a.input]!;
    const producerIsSole = producer?.kind === "dense" && output !== a.input && readers(a.input).length === 1;
    const producerConv = producer?.kind === "conv" && output !== a.input && readers(a.input).length === 1 ? producer : undefined;
    const producerChannels = producerConv && perChannel(a, producerConv.outShape);
    if (biasesOnly) {
      if (producerIsSole && a.scale.every((s) => s === 1)) {
        foldIntoProducer(producer as DenseLayer, a);
        replace(i, a.input);
      } else if (producerConv && producerChannels && a.scale.every((s) => s === 1)) {
        foldIntoProducerConv(producerConv, producerChannels);
        replace(i, a.input);
      }
      continue;
    }
    const consumerConv = sole?.kind === "conv" ? sole : undefined;
    const consumerChannels = consumerConv && perChannel(a, consumerConv.inShape);
    const ownChannels = imageOf(a.input) && perChannel(a, imageOf(a.input)!);
    if (a.scale.every((s) => s === 1) && a.shift.every((t) => t === 0)) {
      replace(i, a.input);
    } else if (sole?.kind === "affine") {
      for (let k = 0; k < a.size; k++) {
        sole.shift[k] += sole.scale[k] * a.shift[k];
        sole.scale[k] *= a.scale[k];
      }
      sole.input = a.input;
      layers[i] = null;
    } else if (sole?.kind === "dense") {
      foldIntoConsumer(sole, a);
      sole.input = a.input;
      layers[i] = null;
    } else if (consumerConv && consumerChannels && (consumerConv.padding.every((p) => p === 0) || consumerChannels.shift.every((t) => t === 0))) {
      foldIntoConsumerConv(consumerConv, consumerChannels);
      consumerConv.input = a.input;
      layers[i] = null;
    } else if (producerIsSole) {
      foldIntoProducer(producer as DenseLayer, a);
      replace(i, a.input);
    } else if (producerConv && producerChannels) {
      foldIntoProducerConv(producerConv, producerChannels);
      replace(i, a.input);
    } else if (ownChannels) {
      layers[i] = depthwise(a, imageOf(a.input)!, ownChannels);
    } else {
      layers[i] = diagonal(a);
    }
  }
  const { layers: _unused, outputSize: _size, ...head } = graph;
  return compactGraph(head, layers, output);
}

/** D(A(x)) = W·(x·s + t) + b = (W·diag(s))·x + (b + W·t). */
function foldIntoConsumer(d: DenseLayer, a: AffineLayer): void {
  for (let o = 0, row = 0; o < d.outputs; o++, row += d.inputs) {
    let extra = 0;
    for (let k = 0; k < d.inputs; k++) {
      extra += d.weights[row + k] * a.shift[k];
      d.weights[row + k] *= a.scale[k];
    }
    d.bias[o] += extra;
  }
}

/** A(P(x)) = (W·x + b)·s + t: row o of W times s[o], bias b[o]·s[o] + t[o]. */
function foldIntoProducer(p: DenseLayer, a: AffineLayer): void {
  for (let o = 0, row = 0; o < p.outputs; o++, row += p.inputs) {
    for (let k = 0; k < p.inputs; k++) p.weights[row + k] *= a.scale[o];
    p.bias[o] = p.bias[o] * a.scale[o] + a.shift[o];
  }
}

/** One scale and one shift per channel of an affine over an image. */
interface Channels {
  scale: Float64Array;
  shift: Float64Array;
}

/** The affine's scale and shift per channel of `shape`, when both are constant over each channel's plane. */
function perChannel(a: AffineLayer, shape: ImageShape): Channels | undefined {
  const plane = shape.height * shape.width;
  if (shape.channels * plane !== a.size) return undefined;
  const scale = new Float64Array(shape.channels);
  const shift = new Float64Array(shape.channels);
  for (let c = 0, at = 0; c < shape.channels; c++) {
    scale[c] = a.scale[at];
    shift[c] = a.shift[at];
    for (let k = 0; k < plane; k++, at++) if (a.scale[at] !== scale[c] || a.shift[at] !== shift[c]) return undefined;
  }
  return { scale, shift };
}

/** A(C(x)) per output channel o: C's filter o times s[o], its bias b[o]·s[o] + t[o]. */
function foldIntoProducerConv(p: ConvLayer, a: Channels): void {
  const per = p.weights.length / p.outShape.channels;
  for (let o = 0; o < p.outShape.channels; o++) {
    for (let k = o * per; k < (o + 1) * per; k++) p.weights[k] *= a.scale[o];
    p.bias[o] = p.bias[o] * a.scale[o] + a.shift[o];
  }
}

/** C(A(x)) with no padding (or t = 0): input channel c's taps times s[c], and Σ W·t over them into the bias. */
function foldIntoConsumerConv(d: ConvLayer, a: Channels): void {
  const perIn = d.inShape.channels / d.groups;
  const perOut = d.outShape.channels / d.groups;
  const taps = d.kernel[0] * d.kernel[1];
  for (let o = 0; o < d.outShape.channels; o++) {
    const first = Math.floor(o / perOut) * perIn;
    let extra = 0;
    for (let c = 0; c < perIn; c++) {
      const at = (o * perIn + c) * taps;
      for (let k = at; k < at + taps; k++) {
        extra += d.weights[k] * a.shift[first + c];
        d.weights[k] *= a.scale[first + c];
      }
    }
    d.bias[o] += extra;
  }
}

/** The affine as a depthwise 1×1 convolution: channel c times s[c] plus t[c]. */
function depthwise(a: AffineLayer & { input: number }, shape: ImageShape, channels: Channels): Absolute {
  const layer: ConvLayer & { input: number } = {
    kind: "conv",
    inShape: shape,
    outShape: shape,
    kernel: [1, 1],
    stride: [1, 1],
    padding: [0, 0, 0, 0],
    dilation: [1, 1],
    groups: shape.channels,
    weights: channels.scale,
    bias: channels.shift,
    input: a.input,
  };
  if (a.source) layer.source = a.source;
  return layer;
}

/** The image shape of each layer's output (undefined when it is a plain vector), from graph.inputShape and the windows. */
function imageShapes(graph: ModelGraph): (ImageShape | undefined)[] {
  const shapes: (ImageShape | undefined)[] = [];
  graph.layers.forEach((layer, i) => {
    if (layer.kind === "conv" || layer.kind === "pool") return void shapes.push(layer.outShape);
    if (layer.kind === "dense") return void shapes.push(undefined);
    const from = inputOf(graph, i);
    shapes.push(from === INPUT ? graph.inputShape : shapes[from]);
  });
  return shapes;
}

function diagonal(a: AffineLayer & { input: number }): Absolute {
  const n = a.size;
  const weights = new Float64Array(n * n);
  for (let k = 0; k < n; k++) weights[k * n + k] = a.scale[k];
  const layer: DenseLayer & { input: number } = { kind: "dense", inputs: n, outputs: n, weights, bias: Float64Array.from(a.shift), input: a.input };
  if (a.source) layer.source = a.source;
  return layer;
}

function copyLayer(layer: Layer, input: number): Absolute {
  switch (layer.kind) {
    case "dense":
      return { ...layer, weights: Float64Array.from(layer.weights), bias: Float64Array.from(layer.bias), input };
    case "affine":
      return { ...layer, scale: Float64Array.from(layer.scale), shift: Float64Array.from(layer.shift), input };
    case "layernorm":
      return { ...layer, gamma: Float64Array.from(layer.gamma), beta: Float64Array.from(layer.beta), input };
    case "conv":
      return { ...layer, weights: Float64Array.from(layer.weights), bias: Float64Array.from(layer.bias), input };
    default:
      return { ...layer, input };
  }
}
