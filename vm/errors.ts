/**
 * Every error mlvm raises on bad input is a subclass of MlvmError, so callers (the CLI above all) can tell
 * "the input is wrong" (print one line, exit non-zero) from "mlvm has a bug" (anything else).
 * Each folder declares the errors of its own job next to the code that throws them.
 */
export class MlvmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A value that cannot be represented in the VM's fixed-point format (NaN, ±Inf, out of range). */
export class FixedPointRangeError extends MlvmError {}

/** Bytecode that does not decode: bad magic, unknown version, unknown opcode, truncated, bad operands. */
export class BytecodeError extends MlvmError {}

/** An input vector that does not fit the program (wrong length, non-numeric, out of range). */
export class InputError extends MlvmError {}
