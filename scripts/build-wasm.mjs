#!/usr/bin/env node
// Compiles the AssemblyScript kernel (interpreter/wasm/assembly) to interpreter/wasm/build/kernel.wasm.
// Runs as the package's `prepare` script, so `npm ci` / `npm install` on a fresh clone build it; run it again
// by hand (`npm run build:wasm`) after editing the kernel.
import asc from "assemblyscript/asc";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
mkdirSync(`${root}/interpreter/wasm/build`, { recursive: true });
const { error, stderr } = await asc.main(
  [
    "interpreter/wasm/assembly/index.ts",
    "--outFile", "interpreter/wasm/build/kernel.wasm",
    "--textFile", "interpreter/wasm/build/kernel.wat",
    "--optimizeLevel", "3",
    "--shrinkLevel", "0",
    "--runtime", "stub",
    "--noAssert",
    "--enable", "simd",
    "--initialMemory", "2",
  ],
  { stderr: process.stderr, stdout: process.stdout, baseDir: root },
);
if (error) {
  console.error(`AssemblyScript build failed: ${error.message}`);
  process.exit(1);
}
console.log("built interpreter/wasm/build/kernel.wasm");
