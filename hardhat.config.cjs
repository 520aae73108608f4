// Hardhat 2 configuration. Compilation uses the solc-js compiler from the pinned npm `solc` package: Hardhat
// would otherwise try to download a compiler, which this project never does (no network at install or run time).
const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");

const SOLC_VERSION = "0.8.28";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async ({ solcVersion }, _hre, runSuper) => {
  if (solcVersion !== SOLC_VERSION) return runSuper();
  const solc = require("solc");
  // A mismatch between the configured and the installed compiler would otherwise pass silently.
  if (!solc.version().startsWith(SOLC_VERSION)) {
    throw new Error(`hardhat.config.cjs wants solc ${SOLC_VERSION} but the npm solc package is ${solc.version()}`);
  }
  return { compilerPath: require.resolve("solc/soljson.js"), isSolcJs: true, version: SOLC_VERSION, longVersion: solc.version() };
});

// viaIR: the step function keeps several calldata slices live at once, which the legacy pipeline cannot fit
// in the stack ("stack too deep"); the IR pipeline can, and its code is cheaper.
/** @type {import("hardhat/config").HardhatUserConfig} */
module.exports = {
  solidity: {
    version: SOLC_VERSION,
    settings: { optimizer: { enabled: true, runs: 1000 }, viaIR: true, evmVersion: "cancun" },
  },
  paths: { sources: "./contracts", artifacts: "./artifacts", cache: "./cache", tests: "./test" },
};
