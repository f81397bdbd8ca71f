import { expect } from "chai";
import { run, vectorBytes, type DenseInt8Model } from "../../src/engine/index.js";
import {
  ZK_MAX_CONSTRAINTS,
  ZkModelTooLarge,
  ZkToolchainError,
  computeWitness,
  generateCircuit,
  releaseZkWorkers,
  syntheticModel,
} from "../../src/sdk/zk/index.js";
import { build, forgeWitness, randomBytes, satisfies, symbols, witnessValues, FIELD } from "./helpers.js";

const PROVER = "0x1111111111111111111111111111111111111111";

function clamp(q: bigint, lo: number): number {
  return Number(q < BigInt(lo) ? BigInt(lo) : q > 127n ? 127n : q);
}

describe("zk circuit generator", function () {
  after(releaseZkWorkers);

  const models: [string, DenseInt8Model][] = [
    ["8-8-4 seed 1", syntheticModel([8, 8, 4], 1)],
    ["8-8-4 seed 2", syntheticModel([8, 8, 4], 2)],
    ["16-16-4 seed 3", syntheticModel([16, 16, 4], 3)],
    ["40-6-3 seed 4 (two input chunks)", syntheticModel([40, 6, 3], 4)],
  ];

  for (const [name, model] of models) {
    it(`witness equals the engine on random inputs, every layer (${name})`, async function () {
      const { compiled } = await build(name, model);
      const sym = symbols(compiled.sym);
      const inDim = model.layers[0].spec.inDim;
      let clampedSeen = 0;
      for (let trial = 0; trial < 4; trial++) {
        const input = randomBytes(inDim, 100 * trial + 7);
        const result = run(model, new Int8Array(input.buffer));
        const output = vectorBytes(result.output);
        const wtns = await computeWitness(compiled, input, output, PROVER);
        const w = await witnessValues(wtns);
        model.layers.forEach((layer, l) => {
          const lo = layer.spec.relu ? 0 : -128;
          for (let j = 0; j < layer.spec.outDim; j++) {
            const idx = sym.get(`main.rq${l + 1}[${j}].q`);
            expect(idx, `q of rq${l + 1}[${j}]`).to.be.a("number");
            let q = w[idx!];
            if (q > FIELD / 2n) q -= FIELD;
            const y = clamp(q, lo);
            if (y !== Number(q)) clampedSeen++;
            expect(y, `layer ${l + 1} neuron ${j}`).to.equal(result.activations[l + 1][j]);
          }
        });
        expect(await satisfies(compiled.r1cs, wtns)).to.equal(true);
      }
      expect(clampedSeen, "some neuron clamps").to.be.greaterThan(0);
    });
  }

  it("accepts only the engine's output: every single-byte change of the output has no witness", async function () {
    const model = syntheticModel([16, 16, 4], 3);
    const { compiled } = await build("16-16-4 seed 3", model);
    const input = randomBytes(16, 11);
    const output = vectorBytes(run(model, new Int8Array(input.buffer)).output).slice();
    await computeWitness(compiled, input, output, PROVER);
    for (let i = 0; i < output.length; i++) {
      for (const delta of [1, 255]) {
        const bad = output.slice();
        bad[i] = (bad[i] + delta) & 0xff;
        let error: unknown;
        await computeWitness(compiled, input, bad, PROVER).catch((e: unknown) => (error = e));
        expect(error, `byte ${i} + ${delta}`).to.be.instanceOf(ZkToolchainError);
      }
    }
  });

  it("rejects a forged remainder, quotient or clamp bit by constraint check", async function () {
    const model = syntheticModel([8, 8, 4], 1);
    const { compiled } = await build("8-8-4 seed 1", model);
    const sym = symbols(compiled.sym);
    const input = randomBytes(8, 5);
    const output = vectorBytes(run(model, new Int8Array(input.buffer)).output);
    const wtns = await computeWitness(compiled, input, output, PROVER);
    const w = await witnessValues(wtns);
    expect(await satisfies(compiled.r1cs, wtns)).to.equal(true);
    const S = BigInt(model.layers[0].spec.shift);
    const qi = sym.get("main.rq1[0].q")!;
    const ri = sym.get("main.rq1[0].r")!;
    const q = w[qi];
    const r = w[ri];
    // p = q * 2^S + r still holds for both forgeries: only the range checks can catch them
    const up = forgeWitness(
      wtns,
      new Map([
        [qi, q + 1n],
        [ri, r - (1n << S)],
      ]),
    );
    const down = forgeWitness(
      wtns,
      new Map([
        [qi, q - 1n],
        [ri, r + (1n << S)],
      ]),
    );
    expect(await satisfies(compiled.r1cs, up)).to.equal(false);
    expect(await satisfies(compiled.r1cs, down)).to.equal(false);
    // the remainder's bits re-derived from the forged value still fail (it has no S-bit representation)
    const bits = new Map<number, bigint>([
      [qi, q + 1n],
      [ri, r - (1n << S)],
    ]);
    const rForged = (((r - (1n << S)) % FIELD) + FIELD) % FIELD;
    for (let i = 0; i < Number(S); i++) {
      const bi = sym.get(`main.rq1[0].rBits.out[${i}]`);
      if (bi !== undefined) bits.set(bi, (rForged >> BigInt(i)) & 1n);
    }
    expect(await satisfies(compiled.r1cs, forgeWitness(wtns, bits))).to.equal(false);
    // a flipped clamp decision
    for (const cmp of ["above", "below"]) {
      const ci = sym.get(`main.rq1[0].${cmp}.out`);
      if (ci === undefined) continue;
      expect(await satisfies(compiled.r1cs, forgeWitness(wtns, new Map([[ci, 1n - w[ci]]])))).to.equal(false);
    }
  });

  it("is deterministic and ignores the model's name and metadata", function () {
    const a = syntheticModel([16, 16, 4], 9);
    const b = { ...syntheticModel([16, 16, 4], 9), name: "other", metadata: { labels: ["x"] } };
    expect(generateCircuit(a).source).to.equal(generateCircuit(b).source);
    expect(generateCircuit(a).source).to.not.equal(generateCircuit(syntheticModel([16, 16, 4], 10)).source);
  });

  it("counts exactly the non-linear constraints circom keeps with --O2", async function () {
    const model = syntheticModel([8, 8, 4], 2);
    const { generated, compiled } = await build("8-8-4 seed 2", model, 2);
    expect(compiled.constraints).to.equal(generated.estimatedConstraints);
  });

  it("refuses a model too large for the toolchain with ZkModelTooLarge", function () {
    const model = syntheticModel([16, 16, 4], 3);
    expect(() => generateCircuit(model, { maxConstraints: 500 })).to.throw(
      ZkModelTooLarge,
      /more than the limit of 500/,
    );
    // a shape-only model (no weights: refused before any per-weight work): 70 layers of 65,536 neurons
    const spec = { inDim: 65_536, outDim: 65_536, multiplier: 1, shift: 62, relu: false };
    const layer = { spec, weights: new Int8Array(0), biases: new Int32Array(0) };
    const huge: DenseInt8Model = { layers: Array.from({ length: 70 }, () => layer) };
    let error: unknown;
    try {
      generateCircuit(huge);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ZkModelTooLarge);
    expect((error as ZkModelTooLarge).limit).to.equal(ZK_MAX_CONSTRAINTS);
    expect((error as ZkModelTooLarge).estimatedConstraints).to.be.greaterThan(ZK_MAX_CONSTRAINTS);
  });
});
