/**
 * TCP ports on 127.0.0.1, asked of the operating system rather than guessed: a free one for a chain of our own, and
 * whether a port someone named is already taken. A local chain must refuse a taken port before it starts anything,
 * or the JSON-RPC server already listening there (another chain, another `mlvm node`) would answer in its place.
 */
import { createServer } from "node:net";
import { MlvmError } from "../vm/errors.js";

/** The port asked for already has a listener on 127.0.0.1. */
export class PortInUseError extends MlvmError {}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** Whether something listens on 127.0.0.1:`port` (binding it fails with EADDRINUSE). */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => (error.code === "EADDRINUSE" ? resolve(true) : reject(error)));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(false)));
  });
}

/** Throws PortInUseError if 127.0.0.1:`port` is taken. */
export async function assertPortFree(port: number): Promise<void> {
  if (await portInUse(port)) throw new PortInUseError(`port ${port} on 127.0.0.1 is already in use (another chain or program listens there): give another --port`);
}
