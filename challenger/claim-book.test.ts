import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ClaimBook, ClaimBookError } from "./claim-book.js";

const dir = () => mkdtempSync(join(tmpdir(), "mlvm-book-"));
const ROOT_A = "0x" + "aa".repeat(32);
const ROOT_B = "0x" + "bb".repeat(32);

describe("ClaimBook", () => {
  it("keeps entries across instances (another process reads what `mlvm claim` wrote)", () => {
    const path = join(dir(), "nested", "claims.json");
    new ClaimBook(path).add(7n, { requestId: "1", modelId: "0x01", traceRoot: ROOT_A, lie: { step: 12 } });
    new ClaimBook(path).add(8n, { requestId: "2", modelId: "0x01", traceRoot: ROOT_B });
    const book = new ClaimBook(path);
    expect(book.get(7n, ROOT_A)).toEqual({ requestId: "1", modelId: "0x01", traceRoot: ROOT_A, lie: { step: 12 } });
    expect(book.get(8n, ROOT_B)?.lie).toBeUndefined();
    expect(JSON.parse(readFileSync(path, "utf8")).version).toBe(1);
  });

  it("applies an entry only to the claim with its trace root (a book from another chain is ignored)", () => {
    const book = new ClaimBook(join(dir(), "claims.json"));
    book.add(7n, { requestId: "1", modelId: "0x01", traceRoot: ROOT_A, lie: { step: 3 } });
    expect(book.get(7n, ROOT_B)).toBeUndefined();
    expect(book.get(7n, ROOT_A.toUpperCase().replace("0X", "0x"))).toBeDefined();
    expect(book.get(9n, ROOT_A)).toBeUndefined();
  });

  it("an absent book is empty; a corrupt one is a typed error naming the file", () => {
    const d = dir();
    expect(new ClaimBook(join(d, "none.json")).get(1n, ROOT_A)).toBeUndefined();
    const bad = join(d, "bad.json");
    writeFileSync(bad, "{not json");
    expect(() => new ClaimBook(bad).get(1n, ROOT_A)).toThrow(ClaimBookError);
    writeFileSync(bad, JSON.stringify({ version: 2, claims: {} }));
    expect(() => new ClaimBook(bad).get(1n, ROOT_A)).toThrow(/bad\.json: not a version 1 claim book/);
  });
});
