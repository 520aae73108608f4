import { defineConfig } from "vitest/config";

// Unit tests sit next to the code they test; cross-cutting suites live in test/.
export default defineConfig({
  test: {
    include: ["{vm,interpreter,compiler,cli,datasets,test}/**/*.test.ts"],
    testTimeout: 60_000,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
