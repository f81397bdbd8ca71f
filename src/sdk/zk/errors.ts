/**
 * Errors of the ZK settlement path. Each names the mistake in one sentence so the CLI can print it as is.
 *
 * @packageDocumentation
 */

/** Base class of every ZK-path error (a user or toolchain mistake, never a bug). */
export class ZkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ZkError";
  }
}

/**
 * The model's circuit would exceed the constraint bound of the toolchain: snarkjs' README states that
 * Groth16 over BN254 supports circuits of at most `2^28` constraints (the two-adicity of the scalar field and
 * the largest public powers-of-tau file), and a caller may set a lower bound (the ptau file at hand).
 */
export class ZkModelTooLarge extends ZkError {
  constructor(
    /** The generator's exact count of the circuit's constraints (before the optimizer). */
    readonly estimatedConstraints: number,
    /** The bound that was exceeded. */
    readonly limit: number,
  ) {
    super(
      `ZkModelTooLarge: the model's circuit needs about ${estimatedConstraints} constraints, ` +
        `more than the limit of ${limit}`,
    );
    this.name = "ZkModelTooLarge";
  }
}

/** A powers-of-tau file is too small for a circuit (or is not prepared for phase 2). */
export class ZkPtauTooSmall extends ZkError {
  constructor(
    readonly needed: number,
    readonly available: number,
  ) {
    super(`ZkPtauTooSmall: the circuit needs a powers-of-tau file of power ${needed}, the file has ${available}`);
    this.name = "ZkPtauTooSmall";
  }
}

/** A toolchain step (circom, snarkjs) failed; `detail` is its own message. */
export class ZkToolchainError extends ZkError {
  constructor(
    readonly step: string,
    readonly detail: string,
  ) {
    super(`ZkToolchainError: ${step} failed: ${detail}`);
    this.name = "ZkToolchainError";
  }
}

/**
 * A snarkjs logger that keeps error and warning lines (and, with `all`, info lines) instead of printing.
 * snarkjs calls its methods unguarded, so all four exist.
 *
 * @param lines - Where the lines go.
 * @param all - Whether info lines are kept too.
 * @returns The logger.
 */
export function collectingLogger(lines: string[], all = false) {
  return {
    info: (m: string) => void (all && lines.push(m)),
    debug: () => undefined,
    warn: (m: string) => void lines.push(m),
    error: (m: string) => void lines.push(m),
  };
}
