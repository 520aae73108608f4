/**
 * The mlvm command line: every subcommand in-process through main() (fast), and the real `bin/mlvm.js`
 * spawned as a user runs it, to check exit codes and that an error is exactly one line on stderr.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { COMMANDS, main } from "../cli/main.js";
import { loadMnist } from "../datasets/mnist.js";
import { TAG, taggedHash, toHex } from "../vm/hash.js";
import { verifyStep } from "../vm/onestep.js";
import { witnessFromJson } from "../vm/witness.js";

const keccakState = (preimage: Uint8Array) => taggedHash(TAG.state, preimage);

const root = fileURLToPath(new URL("..", import.meta.url));
const fixture = (path: string) => join(root, "fixtures", path);
const tmp = mkdtempSync(join(tmpdir(), "mlvm-cli-"));
const mnist = loadMnist(fixture("mnist"));
const digit = (k: number) => Array.from(mnist.image(k));

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n"), errLines: err.flatMap((l) => l.split("\n")) };
}

function writeJson(name: string, value: unknown): string {
  const path = join(tmp, name);
  writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
  return path;
}

describe("help", () => {
  it("mlvm --help lists every command; mlvm alone is a usage error", async () => {
    const help = await cli("--help");
    expect(help.code).toBe(0);
    for (const c of COMMANDS) expect(help.out).toContain(c.name);
    expect((await cli()).code).toBe(2);
  });

  it.each(COMMANDS.map((c) => c.name))("mlvm %s --help prints its usage and options", async (name) => {
    const r = await cli(name, "--help");
    expect(r.code).toBe(0);
    expect(r.out).toContain(`usage: mlvm ${name}`);
    expect(r.out).toContain("--verbose");
  });

  it("the chain commands' help describes protocol v2: the split, the registrant, the game's JSON fields", async () => {
    for (const name of ["node", "deploy"]) expect((await cli(name, "--help")).out).toMatch(/--split-bits M +each round of a game reveals 2\^M trace nodes, 1–8 \(default 4\)/);
    const register = (await cli("register", "--help")).out;
    expect(register).toContain("registrant");
    expect(register).toContain("ModelRegistry.addWeightsURI");
    const status = (await cli("status", "--help")).out;
    for (const field of ["splitBits", "burned", "settlement", "round", "rounds", "levels", "revealed", "move", "timeoutPossible", "rewardDue"]) expect(status).toContain(`"${field}"`);
  });
});

describe("compile, run, eval", () => {
  const mlvmFile = join(tmp, "mnist.mlvm");

  it("compiles the bundled ONNX model to an .mlvm file", async () => {
    const r = await cli("compile", fixture("models/mnist-mlp.onnx"), "-o", mlvmFile, "--json");
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({ file: mlvmFile, steps: 3503, parameters: 109386, memoryDepth: 15 });
    expect(summary.commitment).toMatch(/^0x[0-9a-f]{64}$/);
    expect(readFileSync(mlvmFile).subarray(0, 4).toString()).toBe("MLVM");
  });

  it("runs one input and a batch, from .mlvm and from .onnx alike", async () => {
    const one = writeJson("one.json", digit(8000));
    const batch = writeJson("batch.json", [digit(8000), digit(8001), digit(8002)]);
    const single = JSON.parse((await cli("run", mlvmFile, "--input", one, "--json")).out);
    expect(single.outputs).toHaveLength(1);
    expect(single.outputs[0]).toHaveLength(10);
    expect(single.predictions).toEqual([mnist.label(8000)]);
    const many = JSON.parse((await cli("run", mlvmFile, "--input", batch, "--json")).out);
    expect(many.predictions).toHaveLength(3);
    expect(many.outputs[0]).toEqual(single.outputs[0]);
    const fromOnnx = JSON.parse((await cli("run", fixture("models/mnist-mlp.onnx"), "--input", batch, "--json")).out);
    expect(fromOnnx).toEqual(many);
    const text = await cli("run", mlvmFile, "--input", batch);
    expect(text.out.split("\n")).toHaveLength(3);
    expect(text.out).toMatch(/^\[0\] prediction \d/);
  });

  it("evaluates accuracy and agreement with the PyTorch reference", async () => {
    const r = await cli("eval", mlvmFile, "--mnist", fixture("mnist"), "--range", "8000:8200", "--reference", fixture("models/mnist-mlp.reference.json"), "--json");
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out);
    expect(result.n).toBe(200);
    expect(result.accuracy).toBeGreaterThan(0.9);
    expect(result.agreement).toBeGreaterThanOrEqual(0.99);
  });

  it("the ts and wasm engines print the same results; an unknown engine is a usage error", async () => {
    const batch = writeJson("engines.json", [digit(8100), digit(8101)]);
    const wasm = await cli("run", mlvmFile, "--input", batch, "--json");
    const ts = await cli("run", mlvmFile, "--input", batch, "--json", "--engine", "ts");
    expect(JSON.parse(ts.out)).toEqual(JSON.parse(wasm.out));
    const bad = await cli("run", mlvmFile, "--input", batch, "--engine", "gpu");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--engine must be wasm or ts/);
  });

  it("traces an input: trace root, states, and a witness that verifies", async () => {
    const one = writeJson("trace-in.json", digit(8000));
    const witnessFile = join(tmp, "witness.json");
    const r = await cli("trace", mlvmFile, "--input", one, "--witness", "24", "-o", witnessFile, "--json");
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({ steps: 3503, traceDepth: 12, prediction: mnist.label(8000) });
    expect(summary.traceRoot).toMatch(/^0x[0-9a-f]{64}$/);
    const witness = witnessFromJson(JSON.parse(readFileSync(witnessFile, "utf8")));
    expect(witness.step).toBe(24);
    const post = toHex(verifyStep(keccakState(witness.preState), witness));
    expect(post).toBe(toHex(witness.postStateHash));
    const outOfRange = await cli("trace", mlvmFile, "--input", one, "--witness", "4095");
    expect(outOfRange.code).toBe(2);
    expect(outOfRange.err).toMatch(/--witness must be a step in \[0, 4094\]/);
  });

  it("runs a JSON-weights model", async () => {
    const r = await cli("run", fixture("models/tiny.json"), "--input", writeJson("tiny-in.json", [0.5, -1, 2]), "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).predictions).toHaveLength(1);
  });
});

describe("bad input: one line naming the problem, non-zero exit", () => {
  const garbage = writeJson("garbage.onnx", "this is not protobuf \u0000\u0001\u0002 at all");
  const truncated = join(tmp, "truncated.onnx");
  writeFileSync(truncated, readFileSync(fixture("models/mnist-mlp.onnx")).subarray(0, 5000));
  const corrupted = join(tmp, "corrupted.mlvm");
  const tinyInput = writeJson("three.json", [1, 2, 3]);

  it.each([
    ["a missing model file", ["run", join(tmp, "nope.onnx"), "--input", tinyInput], /cannot read model file \(ENOENT\)/],
    ["an unknown model kind", ["run", join(tmp, "model.pt"), "--input", tinyInput], /unknown model kind ".pt"/],
    ["garbage ONNX", ["compile", garbage], /not a valid ONNX model/],
    ["truncated ONNX", ["compile", truncated], /not a valid ONNX model/],
    ["an unsupported op (nn.LSTM: its zero state comes first)", ["compile", fixture("models/lstm.onnx")], /^mlvm compile: unsupported operator ConstantOfShape \(ConstantOfShape node "\/lstm\/ConstantOfShape"\); mlvm supports Gemm, MatMul/],
    ["an infinite weight", ["compile", writeJson("inf.json", '{"format":"mlvm-mlp","version":1,"input_size":1,"layers":[{"type":"dense","weights":[[1e400]],"bias":[0]}]}')], /weights\[0\]\[0\].*(Infinity|finite)/],
    ["a weight no format can hold", ["compile", writeJson("big.json", '{"format":"mlvm-mlp","version":1,"input_size":1,"layers":[{"type":"dense","weights":[[1e20]],"bias":[0]}]}')], /weight \[0\]\[0\] is 100000000000000000000, beyond what its layer's formats can hold \(\|value\| < 2\^47 with -16 fraction bits\)/],
    ["a wrong input length", ["run", fixture("models/mnist-mlp.onnx"), "--input", tinyInput], /--input file .*three.json: input 0 has 3 values, the model takes 784/],
    ["an input that is not JSON", ["run", fixture("models/tiny.json"), "--input", writeJson("bad.json", "[1, 2,")], /is not valid JSON/],
    ["an input out of range", ["run", fixture("models/tiny.json"), "--input", writeJson("huge.json", [1, 2, 1e9])], /input value 2 is 1000000000, outside the range ±32768 of the model's input format Q15.16 \(recompile with --calibrate inputs that reach it\)/],
    ["a corrupted model file", ["run", corrupted, "--input", tinyInput], /corrupted: its checksum does not match/],
  ])("%s", async (_, argv, message) => {
    const good = readFileSync(join(tmp, "mnist.mlvm"));
    good[good.length - 1] ^= 0xff;
    writeFileSync(corrupted, good);
    const r = await cli(...(argv as string[]));
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.errLines).toHaveLength(1);
    expect(r.err).toMatch(message);
  });

  it("an unknown option or a missing argument is a usage error (exit 2)", async () => {
    expect((await cli("run", "--bogus")).code).toBe(2);
    const missing = await cli("run", fixture("models/tiny.json"));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/missing --input/);
    const model = await cli("demo", "--model", "resnet50");
    expect(model.code).toBe(2);
    expect(model.errLines).toEqual(['mlvm demo: --model must be one of mnist-mlp, lenet5, got "resnet50"']);
  });

  it("--verbose adds the stack trace", async () => {
    const r = await cli("compile", garbage, "--verbose");
    expect(r.code).toBe(1);
    expect(r.errLines.length).toBeGreaterThan(1);
    expect(r.err).toMatch(/at .*onnx\.ts/);
  });
});

describe("the installed bin", () => {
  const bin = join(root, "bin", "mlvm.js");

  it("runs as a user would run it, with --help", () => {
    const help = execFileSync(process.execPath, [bin, "--help"], { encoding: "utf8" });
    expect(help).toContain("usage: mlvm <command>");
    expect(help).toMatch(/^\s+compile\s/m);
  });

  it("exits non-zero with exactly one line on stderr for bad input", () => {
    const r = spawnSync(process.execPath, [bin, "compile", join(tmp, "garbage.onnx")], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^mlvm compile: .*not a valid ONNX model/);
  });

  it("exits quietly when its reader closes the pipe early (mlvm … | head -1)", () => {
    // 1,000 result lines: far more than a pipe buffers, so writes go on after `head` has closed it.
    const many = writeJson("many.json", Array.from({ length: 1000 }, () => new Array(784).fill(0.5)));
    const r = spawnSync("/bin/sh", ["-c", `"${process.execPath}" "${bin}" run fixtures/models/mnist-mlp.onnx --input "${many}" | head -c 1 > /dev/null`], { cwd: root, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
  });
});
