/**
 * Requests and claims as the chain tells them: the oracle stores only hashes, so a request's input and a claim's
 * trace root and output come from their events (InferenceRequested, Claimed). Both the one-shot commands and the
 * daemon read them here. An id is looked up newest first (LogReader.findLast, from the head back to the deployment
 * block): a request or claim someone acts on is usually recent, so a long-lived deployment costs a few chunks, not
 * one eth_getLogs over its whole life (which hosted providers refuse).
 */
import { ethers } from "ethers";
import type { Program } from "../vm/program.js";
import { fromHex } from "../vm/hash.js";
import { CHUNK_WORDS, LEAF_WORDS, decodeLeaf } from "../vm/memory.js";
import { MlvmError } from "../vm/errors.js";
import type { Chain } from "./chain.js";
import { eventFilter } from "./log-reader.js";

/** A request or claim id that the oracle has no event for. */
export class UnknownIdError extends MlvmError {}

export interface RequestInfo {
  requestId: bigint;
  modelId: string;
  requester: string;
  callback: string;
  initialState: string;
  /** The input words packed into 32-byte leaves, as request() took them. */
  leaves: string[];
}

export interface ClaimInfo {
  claimId: bigint;
  requestId: bigint;
  claimant: string;
  traceRoot: string;
  finalState: string;
  outputLeaves: string[];
  deadline: number;
}

export function requestFromEvent(e: ethers.LogDescription): RequestInfo {
  const [requestId, modelId, requester, callback, initialState, input] = e.args;
  return { requestId, modelId: modelId.toLowerCase(), requester, callback, initialState, leaves: [...input] };
}

export function claimFromEvent(e: ethers.LogDescription): ClaimInfo {
  const [claimId, requestId, claimant, traceRoot, finalState, outputLeaves, deadline] = e.args;
  return { claimId, requestId, claimant, traceRoot, finalState, outputLeaves: [...outputLeaves], deadline: Number(deadline) };
}

/** Where an event was found: the block of its log. */
export interface Found {
  block: number;
}

/** The newest `name` event with first indexed argument `id`, in blocks deployment … `upTo` (default the head). */
async function lastEvent(chain: Chain, name: string, id: bigint, upTo: number | "latest"): Promise<{ e: ethers.LogDescription; block: number } | undefined> {
  const filter = await eventFilter(chain.oracle, chain.oracle.filters[name](id));
  const log = await chain.logs.findLast(filter, chain.deployments.fromBlock ?? 0, upTo);
  const e = log ? chain.oracle.interface.parseLog(log) : null;
  return e ? { e, block: log!.blockNumber } : undefined;
}

/** A request's event; `upTo`: no later block can hold it (a claim on it was made in that block). */
export async function findRequest(chain: Chain, requestId: bigint, upTo: number | "latest" = "latest"): Promise<RequestInfo & Found> {
  const found = await lastEvent(chain, "InferenceRequested", requestId, upTo);
  if (!found) throw new UnknownIdError(`no request ${requestId} on this oracle`);
  return { ...requestFromEvent(found.e), block: found.block };
}

export async function findClaim(chain: Chain, claimId: bigint): Promise<ClaimInfo & Found> {
  const found = await lastEvent(chain, "Claimed", claimId, "latest");
  if (!found) throw new UnknownIdError(`no claim ${claimId} on this oracle`);
  return { ...claimFromEvent(found.e), block: found.block };
}

/** The input words a request's leaves hold. */
export function inputFromLeaves(program: Program, leaves: string[]): Int32Array {
  const words = new Int32Array(leaves.length * LEAF_WORDS);
  leaves.forEach((leaf, k) => words.set(decodeLeaf(fromHex(leaf)), k * LEAF_WORDS));
  return words.subarray(0, program.inputLength);
}

/** The claimed output words: the output region inside the chunks a claim proved (as the oracle's outputWords). */
export function outputFromLeaves(program: Program, outputLeaves: string[]): Int32Array {
  const words = new Int32Array(outputLeaves.length * LEAF_WORDS);
  outputLeaves.forEach((leaf, k) => words.set(decodeLeaf(fromHex(leaf)), k * LEAF_WORDS));
  const start = program.outputAddress % CHUNK_WORDS;
  return words.slice(start, start + program.outputLength);
}

/** Claim ids pack the request id and the attempt: requestId · 2^32 + attempt. */
export const requestOfClaim = (claimId: bigint) => claimId >> 32n;

export function parseId(text: string, what: string): bigint {
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(text)) throw new UnknownIdError(`${what} must be a number, got "${text}"`);
  return BigInt(text);
}
