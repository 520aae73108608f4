import { defineConfig } from "vitest/config";

// Unit tests sit next to the code they test; cross-cutting suites live in test/. Suites named *.slow.test.ts
// (the EVM replays of whole traces and of thousands of random states) run with the rest in `npm test`;
// `npm run test:fast` leaves them out while iterating. Files run in parallel, one per core.
export default defineConfig({
  test: {
    include: ["{vm,interpreter,compiler,cli,datasets,evm,challenger,localchain,demo,reference,test}/**/*.test.ts"],
    testTimeout: 60_000,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
