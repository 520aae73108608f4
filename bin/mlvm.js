#!/usr/bin/env node
// The `mlvm` command. The sources are TypeScript, run through tsx's loader, so a fresh clone needs no build step.
import { register } from "tsx/esm/api";

// A reader that stops early (`mlvm status | head -1`) closes the pipe: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

register();
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
