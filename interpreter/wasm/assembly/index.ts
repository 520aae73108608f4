// The WASM kernel's entry: everything exported here is callable from JavaScript (interpreter/wasm/*.ts).
// One file per concept, each mirroring its TypeScript twin in vm/ where one exists.
export * from "./heap";
export * from "./keccak";
export * from "./fixed";
export * from "./activations";
export * from "./elementwise";
export * from "./layernorm";
export * from "./testing";
export * from "./machine";
export * from "./window";
export * from "./step";
export * from "./fast";
export * from "./trace";
