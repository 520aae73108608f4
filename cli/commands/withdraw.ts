/**
 * `mlvm withdraw`: the oracle pays by credit (pull payments), so a bond returned or won stays in the contract
 * until its owner withdraws it; this moves the key's whole credit to its wallet. No credit is not an error:
 * there is simply nothing to do (exit 0), so scripts can withdraw unconditionally.
 */
import { ethers } from "ethers";
import { eventsIn } from "../../challenger/protocol.js";
import { sendTx } from "../../challenger/revert.js";
import { type Command, UsageError } from "../command.js";
import { CHAIN_OPTIONS, toJson, withChain } from "../chain-options.js";

export const withdrawCommand: Command = {
  name: "withdraw",
  summary: "move the key's credit in the oracle (bonds returned and won) to its wallet",
  usage: "mlvm withdraw [--deployments FILE] [--rpc URL] [--key KEY | --account N] [--json]",
  options: { ...CHAIN_OPTIONS },
  details: [
    "Calls InferenceOracle.withdraw(), which pays the key's whole credit (`mlvm balance` shows it). With no",
    'credit it sends nothing and prints "nothing to withdraw" (exit 0). --json prints {"address", "amount" (wei),',
    '"gasUsed", "transactionHash"} (the last two null when nothing was sent).',
  ].join("\n"),
  async run(positionals, values, io) {
    if (positionals.length > 0) throw new UsageError(`mlvm withdraw takes no positional arguments, got: ${positionals.join(" ")}`);
    await withChain(values, async (chain) => {
      const credit = (await chain.oracle.credit(chain.address)) as bigint;
      if (credit === 0n) {
        if (values.json) io.out(toJson({ address: chain.address, amount: 0n, gasUsed: null, transactionHash: null }));
        else io.out(`nothing to withdraw: ${chain.address} has no credit in the oracle`);
        return;
      }
      const receipt = await sendTx(chain.oracle, "withdraw", []);
      const amount = eventsIn(receipt, chain.oracle, "Withdrawn")[0].args.amount as bigint;
      if (values.json) {
        io.out(toJson({ address: chain.address, amount, gasUsed: receipt.gasUsed, transactionHash: receipt.hash }));
        return;
      }
      io.out(`withdrew ${ethers.formatEther(amount)} ETH to ${chain.address}`);
      io.out(`  gas  ${receipt.gasUsed}`);
      io.out(`  tx   ${receipt.hash}`);
    });
  },
};
