/**
 * An in-process Ethereum (ethereumjs, Cancun rules) for tests and gas measurements: no node, no RPC, no network.
 *
 * Two ways to run a contract function:
 *  - `call`: a bare `evm.runCall`, like `eth_call` — fast (no signing, no sender recovery), state changes are
 *    discarded, and gasUsed is execution gas only. Use it for differential tests that run thousands of steps.
 *  - `transact`: a signed transaction through `runTx` — state persists, the nonce moves, and gasUsed is the
 *    full figure a user pays (21000 + calldata + execution − refund).
 */
import { Common, Hardfork, Mainnet } from "@ethereumjs/common";
import type { ExecResult } from "@ethereumjs/evm";
import { createLegacyTx } from "@ethereumjs/tx";
import {
  Account,
  Address,
  bytesToHex,
  createAddressFromPrivateKey,
  createAddressFromString,
  createZeroAddress,
  hexToBytes,
} from "@ethereumjs/util";
import { createVM, runTx, type RunTxResult, type VM } from "@ethereumjs/vm";
import { Interface, isAddress, type FunctionFragment, type InterfaceAbi, type Result } from "ethers";
import { MlvmError } from "../vm/errors.js";
import { loadArtifact, type Artifact } from "./artifacts.js";

/** A call, transaction or deployment that did not succeed: REVERT, or an exceptional halt (out of gas, ...). */
export class EvmRevertError extends MlvmError {
  constructor(
    message: string,
    /** ethereumjs' reason: "revert" for a REVERT, otherwise e.g. "out of gas", "invalid opcode". */
    readonly exception: string,
    /** Raw revert data, 0x-prefixed ("0x" when none). */
    readonly data: string,
    /** Gas used: execution gas for `call`, the full transaction gas for `transact`/`deploy`. */
    readonly gasUsed: bigint,
    /** Set when `data` decodes against the contract's ABI errors (or Error(string) / Panic(uint256)). */
    readonly errorName?: string,
    readonly errorArgs?: unknown[],
  ) {
    super(message);
  }
}

/** A library placeholder with no address given, an unknown library name, or a bad address. */
export class LibraryLinkError extends MlvmError {}

export interface CallResult {
  /** The decoded return value: the value itself when the function has one output, else the ethers Result. */
  result: unknown;
  /** `call`: execution gas only. `transact`: full transaction gas (what the sender pays for). */
  gasUsed: bigint;
}

export interface InProcessEvmOptions {
  /** Gas limit of every transaction unless overridden per transact (default 30M, one mainnet block). */
  txGasLimit?: bigint;
  /** Gas limit of `call` (default 1e9: differential tests should never run out). */
  callGasLimit?: bigint;
  /** Lift EIP-170/EIP-3860 code size limits. Off by default so deployments fail exactly as on mainnet. */
  allowUnlimitedContractSize?: boolean;
}

// Hardhat's well-known account #0: a fixed key keeps addresses (sender and deployed contracts) reproducible.
const SENDER_KEY = hexToBytes("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const SENDER_BALANCE = 10n ** 30n;
// runTx without a block uses a default header whose base fee is 1 gwei; the price must cover it.
const GAS_PRICE = 10n ** 9n;

// Cancun calldata prices (EIP-2028). EIP-7623's calldata floor starts at Prague, so it does not apply here.
const TX_BASE_GAS = 21000n;
const CALLDATA_ZERO_GAS = 4n;
const CALLDATA_NONZERO_GAS = 16n;

/** Calldata gas of a transaction carrying `data` (Cancun: 4 per zero byte, 16 per non-zero byte). */
export function estimateCalldataGas(data: string | Uint8Array): bigint {
  const bytes = typeof data === "string" ? hexToBytes(data as `0x${string}`) : data;
  let gas = 0n;
  for (const b of bytes) gas += b === 0 ? CALLDATA_ZERO_GAS : CALLDATA_NONZERO_GAS;
  return gas;
}

/** Intrinsic gas of a (non-creating, no access list) transaction carrying `data`: 21000 + calldata. */
export function intrinsicCallGas(data: string | Uint8Array): bigint {
  return TX_BASE_GAS + estimateCalldataGas(data);
}

/**
 * One instance runs one thing at a time: await each call/transact/deploy before starting the next, since they
 * share the EVM's journal.
 */
export class InProcessEvm {
  readonly sender: string;
  private readonly senderAddress: Address;
  private readonly txGasLimit: bigint;
  private readonly callGasLimit: bigint;

  private constructor(
    readonly vm: VM,
    readonly common: Common,
    opts: InProcessEvmOptions,
  ) {
    this.senderAddress = createAddressFromPrivateKey(SENDER_KEY);
    this.sender = this.senderAddress.toString();
    this.txGasLimit = opts.txGasLimit ?? 30_000_000n;
    this.callGasLimit = opts.callGasLimit ?? 1_000_000_000n;
  }

  static async create(opts: InProcessEvmOptions = {}): Promise<InProcessEvm> {
    const common = new Common({ chain: Mainnet, hardfork: Hardfork.Cancun });
    const unlimited = opts.allowUnlimitedContractSize ?? false;
    const vm = await createVM({
      common,
      evmOpts: { allowUnlimitedContractSize: unlimited, allowUnlimitedInitCodeSize: unlimited },
    });
    const evm = new InProcessEvm(vm, common, opts);
    await vm.stateManager.putAccount(evm.senderAddress, new Account(0n, SENDER_BALANCE));
    return evm;
  }

  /** The sender's nonce (moves once per transact/deploy; `call` leaves it alone). */
  async nonce(): Promise<bigint> {
    return (await this.vm.stateManager.getAccount(this.senderAddress))?.nonce ?? 0n;
  }

  /**
   * Deploys the compiled contract `artifactName` (see loadArtifact) with constructor `args`. `libraries` maps
   * library names ("Lib" or "contracts/Lib.sol:Lib") to deployed addresses for linking.
   */
  async deploy(artifactName: string, args: unknown[] = [], libraries: Record<string, string> = {}): Promise<Deployed> {
    const artifact = loadArtifact(artifactName);
    return this.deployBytecode(linkBytecode(artifact, libraries), artifact.abi, args, artifact.contractName);
  }

  /** Deploys raw creation code (no placeholders) with an ABI to encode `args` and decode results/errors. */
  async deployBytecode(bytecode: string, abi: InterfaceAbi, args: unknown[] = [], name = "contract"): Promise<Deployed> {
    const iface = Interface.from(abi);
    const data = bytecode + iface.encodeDeploy(args).slice(2);
    const res = await this.sendTx(undefined, data, this.txGasLimit);
    throwIfFailed(res.execResult, iface, res.totalGasSpent, `deploying ${name}`);
    if (res.createdAddress === undefined) throw new Error(`deploying ${name}: runTx reported no address`);
    return new Deployed(this, res.createdAddress.toString(), iface, name, res.totalGasSpent);
  }

  /**
   * Runs `data` against `to` like eth_call: the state (and the sender's nonce) is left exactly as it was.
   * The journal's warm sets and the original-storage cache are reset and re-warmed as runTx would do, so
   * execution gas matches what the same call costs inside a transaction (EIP-2929/2200 accounting).
   */
  async rawCall(to: string, data: string, gasLimit: bigint = this.callGasLimit): Promise<ExecResult> {
    const evm = this.vm.evm;
    const target = createAddressFromString(to);
    evm.journal.cleanJournal();
    evm.stateManager.originalStorageCache.clear();
    for (const precompile of evm.precompiles.keys()) evm.journal.addAlwaysWarmAddress(precompile);
    evm.journal.addAlwaysWarmAddress(this.sender);
    evm.journal.addAlwaysWarmAddress(target.toString());
    evm.journal.addAlwaysWarmAddress(createZeroAddress().toString()); // coinbase of the default block (EIP-3651)
    await evm.journal.checkpoint();
    try {
      const res = await evm.runCall({
        to: target,
        caller: this.senderAddress,
        origin: this.senderAddress,
        data: hexToBytes(data as `0x${string}`),
        gasLimit,
        skipNonceIncrement: true, // otherwise every call bumps the sender's nonce
      });
      return res.execResult;
    } finally {
      await evm.journal.revert(); // discard state changes: call is a read
      evm.journal.cleanJournal();
      evm.stateManager.originalStorageCache.clear();
    }
  }

  /** Signs and runs a transaction from the sender (`to` undefined: contract creation). State persists. */
  async sendTx(to: string | undefined, data: string, gasLimit: bigint = this.txGasLimit): Promise<RunTxResult> {
    const tx = createLegacyTx(
      {
        nonce: await this.nonce(), // read from state, so a reverted or failed tx can never desynchronise it
        gasPrice: GAS_PRICE,
        gasLimit,
        to: to === undefined ? undefined : createAddressFromString(to),
        data: hexToBytes(data as `0x${string}`),
      },
      { common: this.common },
    ).sign(SENDER_KEY);
    return runTx(this.vm, { tx });
  }
}

/** A deployed contract: its address and ABI, bound to the InProcessEvm that holds it. */
export class Deployed {
  readonly interface: Interface;

  constructor(
    readonly evm: InProcessEvm,
    readonly address: string,
    iface: Interface,
    readonly name: string,
    /** Full gas of the deployment transaction. */
    readonly deployGasUsed: bigint,
  ) {
    this.interface = iface;
  }

  /** The calldata for `method` (a name, or a signature like "f(int256)" for overloads). */
  encode(method: string, args: unknown[] = []): string {
    return this.interface.encodeFunctionData(this.fragment(method, args), args);
  }

  /** eth_call-style: fast, no state change; gasUsed is execution gas only. Throws EvmRevertError. */
  async call(method: string, args: unknown[] = []): Promise<CallResult> {
    const fragment = this.fragment(method, args);
    const exec = await this.evm.rawCall(this.address, this.interface.encodeFunctionData(fragment, args));
    throwIfFailed(exec, this.interface, exec.executionGasUsed, `${this.name}.${fragment.name}`);
    return { result: this.decode(fragment, exec.returnValue), gasUsed: exec.executionGasUsed };
  }

  /** A real signed transaction; gasUsed is the full transaction gas. Throws EvmRevertError (the nonce still moves). */
  async transact(method: string, args: unknown[] = [], opts: { gasLimit?: bigint } = {}): Promise<CallResult> {
    const fragment = this.fragment(method, args);
    const res = await this.evm.sendTx(this.address, this.interface.encodeFunctionData(fragment, args), opts.gasLimit);
    throwIfFailed(res.execResult, this.interface, res.totalGasSpent, `${this.name}.${fragment.name}`);
    return { result: this.decode(fragment, res.execResult.returnValue), gasUsed: res.totalGasSpent };
  }

  private fragment(method: string, args: unknown[]): FunctionFragment {
    const fragment = this.interface.getFunction(method, args);
    if (fragment === null) throw new Error(`${this.name} has no function ${method}`);
    return fragment;
  }

  private decode(fragment: FunctionFragment, returnValue: Uint8Array): unknown {
    const result = this.interface.decodeFunctionResult(fragment, returnValue);
    return fragment.outputs.length === 1 ? result[0] : result;
  }
}

/** Replaces each `__$<hash>$__` placeholder in the creation code with its library's address. */
export function linkBytecode(artifact: Artifact, libraries: Record<string, string>): string {
  const unused = new Set(Object.keys(libraries));
  let code = artifact.bytecode;
  for (const [source, libs] of Object.entries(artifact.linkReferences)) {
    for (const [lib, refs] of Object.entries(libs)) {
      const key = `${source}:${lib}` in libraries ? `${source}:${lib}` : lib;
      const address = libraries[key];
      if (address === undefined) {
        throw new LibraryLinkError(`${artifact.contractName} needs library ${source}:${lib}; pass its address`);
      }
      if (!isAddress(address)) throw new LibraryLinkError(`library ${key}: ${address} is not an address`);
      unused.delete(key);
      const hex = address.slice(2).toLowerCase();
      for (const { start, length } of refs) {
        const at = 2 + start * 2; // offsets count bytes of the code after "0x"
        code = code.slice(0, at) + hex.padStart(length * 2, "0") + code.slice(at + length * 2);
      }
    }
  }
  // A name that matches nothing is a typo the caller wants to hear about, not a silent no-op.
  if (unused.size > 0) {
    throw new LibraryLinkError(`${artifact.contractName} does not use libraries ${[...unused].join(", ")}`);
  }
  if (code.includes("__$")) throw new LibraryLinkError(`${artifact.contractName}: unlinked placeholder left in bytecode`);
  return code;
}

function throwIfFailed(exec: ExecResult, iface: Interface, gasUsed: bigint, what: string): void {
  const exception = exec.exceptionError?.error;
  if (exception === undefined) return;
  const data = bytesToHex(exec.returnValue);
  if (exception !== "revert") {
    throw new EvmRevertError(`${what} failed: ${exception}`, exception, data, gasUsed);
  }
  let decoded: { name: string; args: Result } | null = null;
  try {
    decoded = exec.returnValue.length >= 4 ? iface.parseError(data) : null;
  } catch {
    decoded = null; // a known selector with malformed arguments: report the raw data
  }
  if (decoded === null) {
    const shown = data.length > 202 ? `${data.slice(0, 202)}…` : data;
    const reason = data === "0x" ? "reverted without data" : `reverted with data ${shown}`;
    throw new EvmRevertError(`${what} ${reason}`, exception, data, gasUsed);
  }
  const args = [...decoded.args];
  throw new EvmRevertError(
    `${what} reverted with ${decoded.name}(${args.map(formatValue).join(", ")})`,
    exception,
    data,
    gasUsed,
    decoded.name,
    args,
  );
}

function formatValue(v: unknown): string {
  if (typeof v === "string") return v.startsWith("0x") ? v : JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(", ")}]`;
  return String(v);
}
