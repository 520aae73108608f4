/**
 * End-to-end fixtures: a real `hardhat node` process, a fresh deployment of the protocol per scenario (so
 * scenarios sharing a node cannot see each other's claims), the MNIST model registered and compiled into a
 * models directory, daemons as real `mlvm challenger` processes with their JSON log lines collected, and a TCP
 * proxy that can cut a daemon off from the node.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { type Server, type Socket, createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers } from "ethers";
import { type Chain, hardhatKey, openChain } from "../../challenger/chain.js";
import { ClaimBook, type Lie } from "../../challenger/claim-book.js";
import { inputLeaves, modelFields } from "../../challenger/claims.js";
import { DEFAULT_PARAMS, deployTo, writeDeployments } from "../../challenger/deployments.js";
import { ModelShelf, type ShelvedModel } from "../../challenger/models.js";
import { type ProtocolParams, eventsIn } from "../../challenger/protocol.js";
import { proposeClaim } from "../../challenger/proposer.js";
import { findRequest } from "../../challenger/requests.js";
import { sendTx } from "../../challenger/revert.js";
import { encodeModelFile } from "../../compiler/modelfile.js";
import { loadArtifact } from "../../evm/artifacts.js";
import { claimBookPath } from "../../cli/chain-options.js";
import { type DaemonProcess, spawnDaemon, until } from "../../localchain/daemon-process.js";
import { mnist, mnistInput } from "../helpers/models.js";

export { until };
export { LogCapProxy } from "../../localchain/log-cap-proxy.js";

export const E2E_PARAMS: ProtocolParams = { claimBond: ethers.parseEther("1"), challengeBond: ethers.parseEther("0.5"), window: 3600, clock: 600, splitBits: DEFAULT_PARAMS.splitBits };

/** A fresh deployment on `rpc` with the MNIST model registered, and what a scenario needs around it. */
export interface Scenario {
  dir: string;
  deployments: string;
  modelsDir: string;
  shelved: ShelvedModel;
  chain(account: number, rpc?: string): Promise<Chain>;
  /** Asks for an inference of MNIST test image `k` (as account 1, with `callback` or none). */
  request(k: number, callback?: string): Promise<bigint>;
  /** Posts a claim on a request as `account`, honest or lying, recorded in that account's claim book under stateDir. */
  claim(account: number, requestId: bigint, lie?: Lie): Promise<bigint>;
  stateDir: string;
}

export async function scenario(rpc: string, params: ProtocolParams = E2E_PARAMS): Promise<Scenario> {
  const dir = mkdtempSync(join(tmpdir(), "mlvm-e2e-"));
  const deployments = join(dir, "deployments.json");
  writeDeployments(deployments, await deployTo(rpc, hardhatKey(0), params));
  const modelsDir = join(dir, "models");
  mkdirSync(modelsDir);
  writeFileSync(join(modelsDir, "mnist.mlvm"), encodeModelFile(mnist()));
  const shelved = new ModelShelf().add(mnist(), "mnist");
  const stateDir = join(dir, "state");
  const chains = new Map<string, Chain>();
  const chain = async (account: number, via = rpc) => {
    const key = `${account}@${via}`;
    if (!chains.has(key)) chains.set(key, await openChain({ deployments, account, rpc: via }));
    return chains.get(key)!;
  };
  await sendTx((await chain(0)).registry, "register", [modelFields(mnist()), ""]);
  return {
    dir,
    deployments,
    modelsDir,
    shelved,
    stateDir,
    chain,
    async request(k, callback) {
      const c = await chain(1);
      const receipt = await sendTx(c.oracle, "request", [shelved.id, inputLeaves(mnistInput(k)), callback ?? ethers.ZeroAddress]);
      return eventsIn(receipt, c.oracle, "InferenceRequested")[0].args.requestId as bigint;
    },
    async claim(account, requestId, lie) {
      const c = await chain(account);
      const book = new ClaimBook(claimBookPath(stateDir, c.chainId, c.address));
      return (await proposeClaim(c, shelved, await findRequest(c, requestId), book, lie)).claimId;
    },
  };
}

/** Deploys the example consumer (as account 1) asking `s`'s oracle. */
export async function digitConsumer(s: Scenario): Promise<ethers.Contract> {
  const c = await s.chain(1);
  const a = loadArtifact("DigitConsumer");
  const contract = await new ethers.ContractFactory(a.abi, a.bytecode, c.wallet).deploy(c.deployments.contracts.InferenceOracle, s.shelved.id);
  return (await contract.waitForDeployment()) as unknown as ethers.Contract;
}

/** A running `mlvm challenger` process and the JSON lines it logged. */
export type Daemon = DaemonProcess;

/** `mlvm challenger` for `account` on the scenario's deployment (through `rpc` if given). */
export function startDaemon(s: Scenario, account: number, extra: string[] = [], rpc?: string): Daemon {
  return spawnDaemon({ deployments: s.deployments, modelsDir: s.modelsDir, stateDir: s.stateDir, account, extra, rpc });
}

/**
 * A TCP proxy in front of the node: `cut()` closes the port and every connection through it (the daemon sees
 * refused connections), `restore()` listens again on the same port.
 */
export class RpcProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = createConnection(this.target, "127.0.0.1");
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => (client.destroy(), upstream.destroy()));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server!.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  restore(): Promise<void> {
    return this.listen();
  }
}

