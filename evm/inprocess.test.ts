import { Common, Hardfork, Mainnet } from "@ethereumjs/common";
import { createLegacyTx } from "@ethereumjs/tx";
import { hexToBytes } from "@ethereumjs/util";
import { Interface, isAddress } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { MlvmError } from "../vm/errors.js";
import { ArtifactMissingError, loadArtifact } from "./artifacts.js";
import {
  type Deployed,
  EvmRevertError,
  estimateCalldataGas,
  InProcessEvm,
  intrinsicCallGas,
  LibraryLinkError,
  linkBytecode,
} from "./inprocess.js";

/** Creation code that deploys `runtime` as is (CODECOPY the tail of the init code, RETURN it). */
function creationCode(runtime: string): string {
  const len = (runtime.length - 2) / 2;
  if (len > 0xff) throw new Error("runtime too long for this tiny assembler");
  const l = len.toString(16).padStart(2, "0");
  return `0x60${l}600c60003960${l}6000f3${runtime.slice(2)}`;
}

/** Runtime code that reverts with `payload` whatever it is called with. */
function reverter(payload: string): string {
  const l = ((payload.length - 2) / 2).toString(16).padStart(2, "0");
  return `0x60${l}600c60003960${l}6000fd${payload.slice(2)}`;
}

// slot0 += 1; return slot0. Stateful, so it shows that call discards state and that its gas matches runTx's.
const COUNTER_RUNTIME = "0x600054600101806000556000526020" + "6000f3";
const COUNTER_ABI = ["function bump() returns (uint256)"];

const ERRORS_ABI = [
  "function poke()",
  "error WitnessReadMismatch(uint256 index, uint256 expected, uint256 actual)",
];

describe("loadArtifact", () => {
  it("finds a compiled contract by name and by qualified name", () => {
    const a = loadArtifact("Probe");
    expect(a.contractName).toBe("Probe");
    expect(a.bytecode).toMatch(/^0x[0-9a-f]+$/);
    expect(a.deployedBytecode).toMatch(/^0x[0-9a-f]+$/);
    expect(loadArtifact("Probe.sol:Probe").bytecode).toBe(a.bytecode);
    expect(loadArtifact("contracts/test/Probe.sol:Probe").bytecode).toBe(a.bytecode);
  });

  it("says to compile when the artifact is missing", () => {
    expect(() => loadArtifact("NoSuchContract")).toThrow(ArtifactMissingError);
    expect(() => loadArtifact("NoSuchContract")).toThrow(/npx hardhat compile/);
    expect(() => loadArtifact("Probe", "/nonexistent/artifacts")).toThrow(ArtifactMissingError);
    expect(new ArtifactMissingError("x")).toBeInstanceOf(MlvmError);
  });
});

describe("linkBytecode", () => {
  const lib = "0x" + "ab".repeat(20);
  const artifact = {
    contractName: "UsesLib",
    sourceName: "contracts/UsesLib.sol",
    abi: [],
    // Two placeholders for contracts/Lib.sol:Lib at bytes 1 and 22 (the `__$<34 hex>$__` form solc writes).
    bytecode: "0x60" + "__$0123456789abcdef0123456789abcdef01$__" + "00" + "__$0123456789abcdef0123456789abcdef01$__",
    deployedBytecode: "0x",
    linkReferences: { "contracts/Lib.sol": { Lib: [{ start: 1, length: 20 }, { start: 22, length: 20 }] } },
  };

  it("puts the library address at every placeholder", () => {
    const linked = "0x60" + "ab".repeat(20) + "00" + "ab".repeat(20);
    expect(linkBytecode(artifact, { Lib: lib })).toBe(linked);
    expect(linkBytecode(artifact, { "contracts/Lib.sol:Lib": lib.toUpperCase().replace("0X", "0x") })).toBe(linked);
  });

  it("rejects missing, unknown and malformed libraries", () => {
    expect(() => linkBytecode(artifact, {})).toThrow(LibraryLinkError);
    expect(() => linkBytecode(artifact, { Lib: lib, Other: lib })).toThrow(/does not use libraries Other/);
    expect(() => linkBytecode(artifact, { Lib: "0x1234" })).toThrow(/not an address/);
  });
});

describe("InProcessEvm", () => {
  let evm: InProcessEvm;
  let probe: Deployed;

  beforeAll(async () => {
    evm = await InProcessEvm.create();
    probe = await evm.deploy("Probe");
  });

  it("deploys at a deterministic address", async () => {
    expect(isAddress(probe.address)).toBe(true);
    expect(probe.deployGasUsed).toBeGreaterThan(53000n);
    const again = await (await InProcessEvm.create()).deploy("Probe");
    expect(again.address).toBe(probe.address);
  });

  it("calls Probe.f: an arithmetic shift, flooring negatives", async () => {
    const cases: [bigint, bigint][] = [
      [5n, 2n],
      [4n, 2n],
      [0n, 0n],
      [-1n, -1n],
      [-4n, -2n],
      [-5n, -3n],
      [-(2n ** 255n), -(2n ** 254n)],
      [2n ** 255n - 1n, 2n ** 254n - 1n],
    ];
    for (const [a, want] of cases) {
      const { result, gasUsed } = await probe.call("f", [a]);
      expect(result).toBe(want);
      expect(gasUsed).toBeGreaterThan(0n);
    }
    expect((await probe.call("f(int256)", [-7n])).result).toBe(-4n);
  });

  it("transact charges 21000 + calldata + the execution gas call reports", async () => {
    for (const a of [5n, -5n, 0n, 2n ** 200n]) {
      const data = probe.encode("f", [a]);
      const called = await probe.call("f", [a]);
      const sent = await probe.transact("f", [a]);
      expect(sent.result).toBe(called.result);
      expect(sent.gasUsed).toBeGreaterThan(21000n);
      expect(sent.gasUsed - called.gasUsed).toBe(intrinsicCallGas(data));
    }
  });

  it("estimateCalldataGas agrees with the tx package's Cancun pricing", () => {
    const common = new Common({ chain: Mainnet, hardfork: Hardfork.Cancun });
    for (const data of ["0x", "0x00", "0xff", probe.encode("f", [5n]), probe.encode("f", [-5n])]) {
      const tx = createLegacyTx({ to: probe.address as `0x${string}`, data: hexToBytes(data as `0x${string}`) }, { common });
      expect(estimateCalldataGas(data)).toBe(tx.getDataGas());
      expect(intrinsicCallGas(data)).toBe(tx.getIntrinsicGas());
    }
    expect(estimateCalldataGas("0x00ff0000ff")).toBe(4n + 16n + 4n + 4n + 16n);
    expect(estimateCalldataGas(new Uint8Array([0, 1]))).toBe(20n);
    expect(intrinsicCallGas("0x")).toBe(21000n);
  });

  it("call leaves state and nonce alone, and its gas matches the same transaction's execution", async () => {
    const counter = await evm.deployBytecode(creationCode(COUNTER_RUNTIME), COUNTER_ABI, [], "Counter");
    const first = await counter.call("bump");
    const second = await counter.call("bump");
    expect(first.result).toBe(1n);
    expect(second.result).toBe(1n); // the first call's SSTORE was discarded
    expect(second.gasUsed).toBe(first.gasUsed); // and its warm slots did not leak into the second

    // State 0 → 1: call predicted the transaction's execution gas exactly (cold SLOAD, fresh SSTORE).
    const data = counter.encode("bump");
    const tx1 = await counter.transact("bump");
    expect(tx1.result).toBe(1n);
    expect(tx1.gasUsed - intrinsicCallGas(data)).toBe(first.gasUsed);
    // State 1 → 2: a different SSTORE price, still predicted by call.
    const predicted = await counter.call("bump");
    expect(predicted.result).toBe(2n);
    const tx2 = await counter.transact("bump");
    expect(tx2.result).toBe(2n);
    expect(tx2.gasUsed - intrinsicCallGas(data)).toBe(predicted.gasUsed);
  });

  it("keeps the nonce right across many calls and transactions", async () => {
    const local = await InProcessEvm.create();
    const p = await local.deploy("Probe");
    expect(await local.nonce()).toBe(1n);

    const start = performance.now();
    for (let i = 0; i < 1000; i++) {
      const { result } = await p.call("f", [BigInt(i) - 500n]);
      expect(result).toBe((BigInt(i) - 500n) >> 1n);
    }
    expect(performance.now() - start).toBeLessThan(20_000); // ~1 s on a laptop; a gross slowdown is a bug
    expect(await local.nonce()).toBe(1n);

    for (let i = 0; i < 20; i++) expect((await p.transact("f", [BigInt(i)])).result).toBe(BigInt(i) >> 1n);
    expect(await local.nonce()).toBe(21n);
    // A second deployment after transactions lands at a fresh address.
    const p2 = await local.deploy("Probe");
    expect(p2.address).not.toBe(p.address);
    expect(await local.nonce()).toBe(22n);
  });

  describe("reverts", () => {
    const errors = new Interface(ERRORS_ABI);

    it("decodes a custom error from the contract's ABI", async () => {
      const payload = errors.encodeErrorResult("WitnessReadMismatch", [1n, 0n, 16384n]);
      const c = await evm.deployBytecode(creationCode(reverter(payload)), ERRORS_ABI, [], "Verifier");
      const err = await c.call("poke").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EvmRevertError);
      expect(err).toBeInstanceOf(MlvmError);
      const e = err as EvmRevertError;
      expect(e.message).toBe("Verifier.poke reverted with WitnessReadMismatch(1, 0, 16384)");
      expect(e.exception).toBe("revert");
      expect(e.data).toBe(payload);
      expect(e.errorName).toBe("WitnessReadMismatch");
      expect(e.errorArgs).toEqual([1n, 0n, 16384n]);
      expect(e.gasUsed).toBeGreaterThan(0n);
    });

    it("decodes Error(string) and Panic(uint256)", async () => {
      const withReason = await evm.deployBytecode(
        creationCode(reverter(errors.encodeErrorResult("Error(string)", ["nope"]))),
        ERRORS_ABI,
      );
      await expect(withReason.call("poke")).rejects.toThrow('reverted with Error("nope")');
      const panic = await evm.deployBytecode(creationCode(reverter(errors.encodeErrorResult("Panic(uint256)", [0x11n]))), ERRORS_ABI);
      await expect(panic.call("poke")).rejects.toMatchObject({ errorName: "Panic", errorArgs: [0x11n] });
    });

    it("keeps undecodable revert data raw", async () => {
      const payload = "0xdeadbeef0000000000000000000000000000000000000000000000000000000000000001";
      const c = await evm.deployBytecode(creationCode(reverter(payload)), ERRORS_ABI);
      const e = (await c.call("poke").catch((x: unknown) => x)) as EvmRevertError;
      expect(e).toBeInstanceOf(EvmRevertError);
      expect(e.errorName).toBeUndefined();
      expect(e.data).toBe(payload);
      expect(e.message).toContain("reverted with data 0xdeadbeef");
    });

    it("a reverting transaction throws with the full gas and still uses the nonce", async () => {
      const payload = errors.encodeErrorResult("WitnessReadMismatch", [2n, 3n, 4n]);
      const c = await evm.deployBytecode(creationCode(reverter(payload)), ERRORS_ABI, [], "Verifier");
      const before = await evm.nonce();
      const e = (await c.transact("poke").catch((x: unknown) => x)) as EvmRevertError;
      expect(e).toBeInstanceOf(EvmRevertError);
      expect(e.errorName).toBe("WitnessReadMismatch");
      expect(e.gasUsed).toBeGreaterThan(21000n);
      expect(await evm.nonce()).toBe(before + 1n);
    });

    it("reports an exceptional halt (out of gas)", async () => {
      const gasLimit = intrinsicCallGas(probe.encode("f", [1n])) + 10n; // 10 gas left for execution
      const e = (await probe.transact("f", [1n], { gasLimit }).catch((x: unknown) => x)) as EvmRevertError;
      expect(e).toBeInstanceOf(EvmRevertError);
      expect(e.exception).toBe("out of gas");
      expect(e.message).toBe("Probe.f failed: out of gas");
      expect(e.gasUsed).toBe(gasLimit); // an exceptional halt burns all the gas
    });
  });
});
