/**
 * The subset of snarkjs 0.7 (which ships no types) that the ZK path calls. File arguments are paths or
 * snarkjs' in-memory `{ type: "mem", data? }` files.
 */
declare module "snarkjs" {
  /** A path, or an in-memory file that snarkjs fills (`data`) when it writes. */
  export type FileArg = string | { type: "mem"; data?: Uint8Array };
  /** snarkjs' Groth16 proof object (decimal strings, projective coordinates). */
  export interface Groth16Proof {
    pi_a: string[];
    pi_b: string[][];
    pi_c: string[];
    protocol: string;
    curve: string;
  }
  /** A logger: snarkjs calls whichever of these exist. */
  export interface Logger {
    info?(msg: string): void;
    debug?(msg: string): void;
    error?(msg: string): void;
    warn?(msg: string): void;
  }
  export const groth16: {
    prove(zkey: FileArg, wtns: FileArg, logger?: Logger): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    verify(vk: unknown, publicSignals: string[], proof: Groth16Proof, logger?: Logger): Promise<boolean>;
    exportSolidityCallData(proof: Groth16Proof, publicSignals: string[]): Promise<string>;
  };
  export const zKey: {
    newZKey(r1cs: FileArg, ptau: FileArg, zkey: FileArg, logger?: Logger): Promise<Uint8Array>;
    contribute(oldZkey: FileArg, newZkey: FileArg, name: string, entropy: string, logger?: Logger): Promise<Uint8Array>;
    beacon(
      oldZkey: FileArg,
      newZkey: FileArg,
      name: string,
      beaconHashStr: string,
      numIterationsExp: number,
      logger?: Logger,
    ): Promise<Uint8Array>;
    verifyFromR1cs(r1cs: FileArg, ptau: FileArg, zkey: FileArg, logger?: Logger): Promise<boolean>;
    exportVerificationKey(zkey: FileArg, logger?: Logger): Promise<Record<string, unknown>>;
    exportSolidityVerifier(zkey: FileArg, templates: { groth16: string }, logger?: Logger): Promise<string>;
    exportJson(zkey: FileArg, logger?: Logger): Promise<Record<string, unknown>>;
  };
  export const wtns: {
    calculate(input: Record<string, unknown>, wasm: FileArg, wtns: FileArg): Promise<void>;
    exportJson(wtns: FileArg): Promise<bigint[]>;
    check(r1cs: FileArg, wtns: FileArg, logger?: Logger): Promise<boolean>;
  };
  export const r1cs: {
    info(
      r1cs: FileArg,
      logger?: Logger,
    ): Promise<{ nConstraints: number; nPubInputs: number; nOutputs: number; nVars: number }>;
  };
  export const powersOfTau: {
    preparePhase2(oldPtau: FileArg, newPtau: FileArg, logger?: Logger): Promise<void>;
    newAccumulator(curve: unknown, power: number, file: FileArg, logger?: Logger): Promise<Uint8Array>;
  };
  export const curves: {
    getCurveFromName(name: string, options?: { singleThread?: boolean }): Promise<unknown>;
  };
}
