#!/usr/bin/env node
// `npm run bench [-- --json]`: the benchmarks, run through tsx like the CLI.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../bench/main.ts");
await main(process.argv.slice(2));
