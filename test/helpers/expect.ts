import { expect } from "vitest";

/** Asserts that fn throws an instance of `cls` whose message matches every pattern; returns the error. */
export function expectThrow(fn: () => unknown, cls: new (...args: never[]) => Error, ...patterns: (string | RegExp)[]): Error {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(cls);
  const message = (caught as Error).message;
  for (const p of patterns) expect(message).toMatch(p);
  return caught as Error;
}
