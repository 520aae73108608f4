/**
 * `mlvm balance`: what an account has to spend and what the oracle owes it, so a user can tell "fund this key"
 * from "withdraw first" before a transaction fails. Read-only: it works with no key at all (--address).
 */
import { ethers } from "ethers";
import { type Command, UsageError } from "../command.js";
import { CHAIN_OPTIONS, toJson, withChain } from "../chain-options.js";

export const balanceCommand: Command = {
  name: "balance",
  summary: "an account's ETH balance and its credit in the oracle (bonds returned and won, not yet withdrawn)",
  usage: "mlvm balance [--address ADDRESS] [--deployments FILE] [--rpc URL] [--key KEY | --account N] [--json]",
  options: {
    address: { type: "string", valueName: "ADDRESS", description: "the account to show (default: the key's address)" },
    ...CHAIN_OPTIONS,
  },
  details: [
    "The credit is what InferenceOracle.credit() holds for the account: claim bonds of finalized claims, bonds",
    "returned and won in games; `mlvm withdraw` moves it to the wallet. Sends nothing: with --address no key is",
    "needed; without it, the account is the key's (--key, $MLVM_KEY or, on a local chain, --account N).",
    '--json prints {"address", "balance", "credit"} (wei, as decimal strings).',
  ].join("\n"),
  async run(positionals, values, io) {
    if (positionals.length > 0) throw new UsageError(`mlvm balance takes no positional arguments, got: ${positionals.join(" ")}`);
    const asked = values.address;
    if (asked !== undefined && (typeof asked !== "string" || !ethers.isAddress(asked))) throw new UsageError(`--address must be an address, got "${String(asked)}"`);
    await withChain(
      values,
      async (chain) => {
        const address = asked === undefined ? chain.address : ethers.getAddress(asked);
        const [balance, credit] = await Promise.all([chain.provider.getBalance(address), chain.oracle.credit(address) as Promise<bigint>]);
        if (values.json) {
          io.out(toJson({ address, balance, credit }));
          return;
        }
        io.out(address);
        io.out(`  balance  ${ethers.formatEther(balance)} ETH`);
        io.out(`  credit   ${ethers.formatEther(credit)} ETH in the oracle${credit > 0n ? " (mlvm withdraw moves it to the wallet)" : ""}`);
      },
      // Without --address the account is the key's: opened as for a send, so that no key on a public chain is
      // an error rather than the balance of a throwaway wallet.
      { readOnly: asked !== undefined },
    );
  },
};
