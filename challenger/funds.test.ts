/**
 * The pieces of the one-line "not enough ETH" error: amounts rounded so a shortfall is never hidden, the message
 * naming address, balance and need, and the node refusals ethers produces (Hardhat's, which ethers cannot
 * classify, and Geth's/Anvil's INSUFFICIENT_FUNDS) recognised as such, other errors not. The end-to-end path
 * (a real node, the real CLI) is in test/e2e/cli-failures.test.ts.
 */
import { ethers } from "ethers";
import { describe, expect, it } from "vitest";
import { formatEth, formatGwei, insufficientFundsText, maxCost, neededFromText, shortfallMessage } from "./funds.js";

/** The error ethers' JsonRpcProvider makes of a JSON-RPC error answer to eth_sendRawTransaction. */
function rpcError(code: number, message: string): Error {
  const provider = new ethers.JsonRpcProvider("http://127.0.0.1:9", undefined, { staticNetwork: ethers.Network.from(31337) });
  const error = provider.getRpcError({ method: "eth_sendRawTransaction", params: ["0x02f8…"], id: 1, jsonrpc: "2.0" }, { id: 1, error: { code, message } });
  provider.destroy();
  return error;
}

describe("amounts", () => {
  it("ETH to 6 decimals, a need rounded up and a balance down", () => {
    expect(formatEth(0n)).toBe("0.0");
    expect(formatEth(ethers.parseEther("1"))).toBe("1.0");
    expect(formatEth(1002300000000000000n, "up")).toBe("1.0023");
    expect(formatEth(56468958144000n, "up")).toBe("0.000057");
    expect(formatEth(56468958144000n, "down")).toBe("0.000056");
    expect(formatEth(1n, "up")).toBe("0.000001");
    expect(formatEth(1n, "down")).toBe("0.0");
  });

  it("gwei to 3 decimals", () => {
    expect(formatGwei(2352873256n)).toBe("2.353");
    expect(formatGwei(1_000_000_000n)).toBe("1");
    expect(formatGwei(1_500_000_000n)).toBe("1.5");
  });

  it("the message names the address, its balance, the need and its parts", () => {
    const cost = { value: ethers.parseEther("1"), gasLimit: 140_000n, maxFeePerGas: 2_500_000_000n };
    expect(maxCost(cost)).toBe(1_000_350_000_000_000_000n);
    const address = "0x12611ca33CE55f0E9Fc11A632DD5D918a9Ac0432";
    expect(shortfallMessage(address, ethers.parseEther("0.5"), cost, "claim")).toBe(
      `${address} has 0.5 ETH; claim needs 1.00035 ETH (1.0 ETH value + gas 0.00035 ETH: 140000 gas at 2.5 gwei)`,
    );
    expect(shortfallMessage(address, 0n, { gasLimit: 21_000n, maxFeePerGas: 1_000_000_000n }, "register")).toBe(
      `${address} has 0.0 ETH; register needs 0.000021 ETH (gas 0.000021 ETH: 21000 gas at 1 gwei)`,
    );
  });
});

describe("a node's refusal for lack of funds", () => {
  it("Hardhat's wording, which ethers cannot classify, is recognised and its need read", () => {
    const hardhat = rpcError(-32000, "Sender doesn't have enough funds to send tx. The max upfront cost is: 56468958144000 and the sender's balance is: 0.");
    expect((hardhat as ethers.EthersError).code).toBe("UNKNOWN_ERROR");
    const text = insufficientFundsText(hardhat);
    expect(text).toMatch(/doesn't have enough funds/);
    expect(neededFromText(text!)).toBe(56468958144000n);
  });

  it("Geth's and Anvil's wording is ethers' INSUFFICIENT_FUNDS, recognised; Geth's need is read", () => {
    const geth = rpcError(-32000, "insufficient funds for gas * price + value: address 0x12611ca33CE55f0E9Fc11A632DD5D918a9Ac0432 have 0 want 1000350000000000000");
    expect((geth as ethers.EthersError).code).toBe("INSUFFICIENT_FUNDS");
    expect(neededFromText(insufficientFundsText(geth)!)).toBe(1000350000000000000n);
  });

  it("a revert, a dead node or a plain error is not a lack of funds", () => {
    expect(insufficientFundsText(rpcError(3, "execution reverted"))).toBeUndefined();
    expect(insufficientFundsText(rpcError(-32000, "nonce too low"))).toBeUndefined();
    expect(insufficientFundsText(new Error("connect ECONNREFUSED 127.0.0.1:8545"))).toBeUndefined();
    expect(insufficientFundsText("a string")).toBeUndefined();
  });
});
