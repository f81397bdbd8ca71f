import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import http from "node:http";
import type net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { ContractFactory, type Contract } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import * as snarkjs from "snarkjs";
import type { DenseInt8Model } from "../../src/engine/index.js";
import {
  compileCircuit,
  compileVerifier,
  contributeZkey,
  exportVerifierSource,
  generateCircuit,
  insecureTestPowersOfTau,
  newZkey,
  type CompiledCircuit,
  type GeneratedCircuit,
  type VerifierArtifact,
} from "../../src/sdk/zk/index.js";
import type { Groth16InferenceVerifier } from "../../typechain-types/index.js";

/**
 * Power of the test phase-1 file: circuits of up to 2^11 - 1 constraints plus public inputs (16-16-4 has
 * about 1,160 with --O1). Made with KNOWN secrets by `insecureTestPowersOfTau`: worthless as a ceremony.
 */
export const TEST_PTAU_POWER = 11;

let ptau: Promise<string> | undefined;

/** The test phase-1 file, made once per test process in a fresh temporary directory (about 30 s). */
export function testPtau(): Promise<string> {
  ptau ??= (async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "verity-zk-test-"));
    const file = path.join(dir, `insecure-test-${TEST_PTAU_POWER}.ptau`);
    await insecureTestPowersOfTau(file, TEST_PTAU_POWER);
    return file;
  })();
  return ptau;
}

/** A model's generated and compiled circuit. */
export interface Built {
  generated: GeneratedCircuit;
  compiled: CompiledCircuit;
}

const builds = new Map<string, Promise<Built>>();

/** Generates and compiles a model's circuit once per test process (keyed by `key`). */
export function build(key: string, model: DenseInt8Model, optimize: 1 | 2 = 1): Promise<Built> {
  const k = `${key}/${optimize}`;
  let b = builds.get(k);
  if (!b) {
    b = (async () => {
      const generated = generateCircuit(model);
      return { generated, compiled: await compileCircuit(generated.source, { optimize }) };
    })();
    builds.set(k, b);
  }
  return b;
}

const zkeys = new Map<string, Promise<Uint8Array>>();

/** The initial (no contribution) zkey of a built circuit from the test ptau, once per process. */
export function testZkey(key: string, built: Built): Promise<Uint8Array> {
  let z = zkeys.get(key);
  if (!z) {
    z = testPtau().then((p) => newZkey(built.compiled.r1cs, p));
    zkeys.set(key, z);
  }
  return z;
}

const finalZkeys = new Map<string, Promise<Uint8Array>>();

/** The test zkey after one phase-2 contribution (fixed entropy), once per process: what tests prove with. */
export function testFinalZkey(key: string, built: Built): Promise<Uint8Array> {
  let z = finalZkeys.get(key);
  if (!z) {
    z = testZkey(key, built).then(async (initial) => {
      const { zkey } = await contributeZkey(initial, "test contributor", `entropy ${key}`);
      return zkey;
    });
    finalZkeys.set(key, z);
  }
  return z;
}

const artifacts = new Map<string, Promise<VerifierArtifact>>();

/** The compiled Solidity verifier of {@link testFinalZkey}'s key, once per process (solc takes seconds). */
export function testVerifierArtifact(key: string, built: Built): Promise<VerifierArtifact> {
  let a = artifacts.get(key);
  if (!a) {
    a = testFinalZkey(key, built).then(async (zkey) => compileVerifier(await exportVerifierSource(zkey)));
    artifacts.set(key, a);
  }
  return a;
}

/** A model's circuit, final test zkey, deployed generated verifier and the adapter bound to a model id. */
export interface DeployedZkVerifier {
  built: Built;
  zkey: Uint8Array;
  verifier: Contract;
  adapter: Groth16InferenceVerifier;
}

/**
 * Deploys the generated Groth16 verifier of `model`'s circuit (built and set up once per process under `key`)
 * and a `Groth16InferenceVerifier` adapter for `modelId`, from the connection's first signer.
 */
export async function deployZkVerifier(
  ethers: NetworkConnection["ethers"],
  model: DenseInt8Model,
  key: string,
  modelId: string,
): Promise<DeployedZkVerifier> {
  const built = await build(key, model);
  const zkey = await testFinalZkey(key, built);
  const artifact = await testVerifierArtifact(key, built);
  const [signer] = await ethers.getSigners();
  const verifier = (await new ContractFactory(artifact.abi as never, artifact.bytecode, signer).deploy()) as Contract;
  await verifier.waitForDeployment();
  const adapter = (await ethers.deployContract("Groth16InferenceVerifier", [
    modelId,
    await verifier.getAddress(),
    built.generated.inputLength,
    built.generated.outputLength,
  ])) as unknown as Groth16InferenceVerifier;
  await adapter.waitForDeployment();
  return { built, zkey, verifier, adapter };
}

/** Writes a built circuit as `verity zk circuit` does (model.circom, .r1cs, .wasm, .sym) into `dir`. */
export async function writeCircuitDir(dir: string, built: Built): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "model.circom"), built.generated.source);
  await writeFile(path.join(dir, "model.r1cs"), built.compiled.r1cs);
  await writeFile(path.join(dir, "model.wasm"), built.compiled.wasm);
  await writeFile(path.join(dir, "model.sym"), built.compiled.sym);
}

/**
 * An HTTP JSON-RPC endpoint in front of an in-process Hardhat network, so that the CLI (which only takes
 * `--rpc <url>`) can run in-process against the same chain the test deploys on and inspects.
 */
export async function serveRpc(connection: NetworkConnection): Promise<{ url: string; close: () => Promise<void> }> {
  const relay = async (request: { id: unknown; method: string; params?: unknown[] }) => {
    try {
      const result = await connection.provider.request({ method: request.method, params: request.params ?? [] });
      return { jsonrpc: "2.0", id: request.id, result };
    } catch (error) {
      const e = error as { code?: number; message?: string; data?: unknown };
      // keep the revert data: the CLI decodes custom errors from it
      return { jsonrpc: "2.0", id: request.id, error: { code: e.code ?? -32000, message: e.message, data: e.data } };
    }
  };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", async () => {
      const parsed = JSON.parse(body);
      const answer = Array.isArray(parsed) ? await Promise.all(parsed.map(relay)) : await relay(parsed);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Witness index of each signal name in a `.sym` file (signals removed by the optimizer are left out). */
export function symbols(sym: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of sym.split("\n")) {
    const [, varIdx, , name] = line.split(",");
    if (name && Number(varIdx) >= 0) out.set(name, Number(varIdx));
  }
  return out;
}

/** The witness values of a `.wtns` file. */
export async function witnessValues(wtns: Uint8Array): Promise<bigint[]> {
  return snarkjs.wtns.exportJson({ type: "mem", data: wtns });
}

/** BN254's scalar field order. */
export const FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/**
 * A copy of a `.wtns` file with some values replaced (indices into the witness), to present the circuit with
 * a forged witness. The file is a binfile: section 1 holds n8, the prime and the count, section 2 the values.
 */
export function forgeWitness(wtns: Uint8Array, changes: Map<number, bigint>): Uint8Array {
  const b = Buffer.from(wtns);
  let o = 12;
  let n8 = 32;
  while (o < b.length) {
    const id = b.readUInt32LE(o);
    const size = Number(b.readBigUInt64LE(o + 4));
    if (id === 1) n8 = b.readUInt32LE(o + 12);
    if (id === 2) {
      for (const [index, value] of changes) {
        let v = ((value % FIELD) + FIELD) % FIELD;
        for (let i = 0; i < n8; i++, v >>= 8n) b[o + 12 + index * n8 + i] = Number(v & 0xffn);
      }
    }
    o += 12 + size;
  }
  return new Uint8Array(b);
}

/** Whether a witness satisfies every constraint of an r1cs (snarkjs `wtns check`). */
export async function satisfies(r1cs: Uint8Array, wtns: Uint8Array): Promise<boolean> {
  const quiet = { info() {}, warn() {}, error() {}, debug() {} };
  return snarkjs.wtns.check({ type: "mem", data: r1cs }, { type: "mem", data: wtns }, quiet);
}

/** Deterministic random int8 bytes. */
export function randomBytes(n: number, seed: number): Uint8Array {
  let a = seed >>> 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1_103_515_245) + 12_345) >>> 0;
    out[i] = a >>> 24;
  }
  return out;
}
