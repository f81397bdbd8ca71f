import { expect } from "chai";
import { network } from "hardhat";
import { hashVector, modelIdOf, graphHash, traceRoot } from "../../src/engine/index.js";
import { infer, paramsFrom, pseudoDigit } from "../helpers/disputeFixture.js";
import {
  commitBatch,
  commitInference,
  deadlineOf,
  deployDisputes,
  fingerprint,
  fraudProof,
  inferenceOf,
  neuronProofAt,
  openGame,
  openLeafGame,
  Outcome,
  passDeadline,
  Phase,
  playToProof,
  revealLayer,
  revealTrace,
  selectLayer,
  traceOf,
  vectorToHex,
  type Game,
  type Mnist,
  type Params,
} from "./helpers.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

/** A provider wrong at neuron 5 of layer 2, disputed: the game waits for its trace. */
async function openFixture() {
  const f = await deployDisputes(connection);
  const c = await commitInference(f, { seed: 1, fault: { layer: 2, neuron: 5, delta: 3 } });
  const g = await openGame(f, c);
  return { f, c, g };
}

/** The same game played to the neuron proof at layer 2. */
async function proofFixture() {
  const s = await openFixture();
  await playToProof(s.f, s.g, 2);
  return s;
}

/** A batch leaf disputed with the input demanded: the game waits for the input. */
async function leafFixture() {
  const f = await deployDisputes(connection);
  const batch = await commitBatch(f, [2, 3]);
  const g = await openLeafGame(f, batch, 1, true);
  return { f, batch, g };
}

/** Asserts that `call` reverts with the game's custom error `name(args)` and that nothing changed. */
async function rejects(f: Mnist, games: Game[], call: () => Promise<unknown>, name: string, args: unknown[]) {
  const ids = games.map((g) => g.id);
  const targets = games.filter((g) => !g.params.isLeaf).map((g) => g.c.id);
  const before = await fingerprint(f, ids, targets);
  await expect(call())
    .to.be.revertedWithCustomError(f.disputeGame, name)
    .withArgs(...args);
  expect(await fingerprint(f, ids, targets)).to.deep.equal(before);
}

describe("DisputeGame errors", () => {
  describe("DisputeGameUnknownDispute", () => {
    const tamperings: [string, (p: Params) => Params][] = [
      ["target", (p) => ({ ...p, target: ethers.id("other") })],
      ["isLeaf", (p) => ({ ...p, isLeaf: true })],
      ["modelId", (p) => ({ ...p, modelId: ethers.id("other") })],
      ["provider", (p) => ({ ...p, provider: ethers.Wallet.createRandom().address })],
      ["challenger", (p) => ({ ...p, challenger: ethers.Wallet.createRandom().address })],
      ["inference", (p) => ({ ...p, inference: { ...p.inference, outputHash: ethers.id("other") } })],
      ["bond", (p) => ({ ...p, bond: 1n })],
      ["slashAmount", (p) => ({ ...p, slashAmount: 0n })],
      ["responseWindow", (p) => ({ ...p, responseWindow: 10n ** 9n })],
      ["challengerShareBps", (p) => ({ ...p, challengerShareBps: 10_000n })],
      ["nonce", (p) => ({ ...p, nonce: 1n })],
    ];
    for (const [field, tamper] of tamperings) {
      it(`rejects every move, timeout and close with params whose ${field} was tampered`, async () => {
        const { f, g } = await networkHelpers.loadFixture(openFixture);
        const bad = tamper(g.params);
        const id = await f.disputeGame.disputeIdOf(bad);
        expect(id).to.not.equal(g.id);
        const { disputeGame } = f;
        await rejects(
          f,
          [g],
          () => disputeGame.connect(f.provider).revealTrace(bad, g.c.claimed.layerHashes),
          "DisputeGameUnknownDispute",
          [id],
        );
        await rejects(f, [g], () => disputeGame.timeout(bad), "DisputeGameUnknownDispute", [id]);
        await rejects(f, [g], () => disputeGame.closeOverturned(bad), "DisputeGameUnknownDispute", [id]);
      });
    }
  });

  describe("DisputeGameUnexpectedPhase", () => {
    it("rejects every challenger move and the input moves while the game awaits the trace", async () => {
      const { f, g } = await networkHelpers.loadFixture(openFixture);
      const { disputeGame, challenger, provider } = f;
      await rejects(f, [g], () => selectLayer(f, g, 2), "DisputeGameUnexpectedPhase", [
        g.id,
        Phase.AwaitingTrace,
        Phase.AwaitingLayerSelection,
      ]);
      await rejects(f, [g], () => revealLayer(f, g, 2), "DisputeGameUnexpectedPhase", [
        g.id,
        Phase.AwaitingTrace,
        Phase.AwaitingLayerReveal,
      ]);
      await rejects(
        f,
        [g],
        () => disputeGame.connect(challenger).proveNeuron(g.params, fraudProof(f, g, 2)),
        "DisputeGameUnexpectedPhase",
        [g.id, Phase.AwaitingTrace, Phase.AwaitingNeuronProof],
      );
      await rejects(
        f,
        [g],
        () => disputeGame.connect(provider).revealInput(g.params, vectorToHex(g.c.input)),
        "DisputeGameUnexpectedPhase",
        [g.id, Phase.AwaitingTrace, Phase.AwaitingInput],
      );
      await rejects(
        f,
        [g],
        () => disputeGame.connect(challenger).continueDispute(g.params),
        "DisputeGameUnexpectedPhase",
        [g.id, Phase.AwaitingTrace, Phase.InputRevealed],
      );
    });

    it("rejects a second trace once the game awaits the layer selection", async () => {
      const { f, g } = await networkHelpers.loadFixture(openFixture);
      await revealTrace(f, g);
      await rejects(f, [g], () => revealTrace(f, g), "DisputeGameUnexpectedPhase", [
        g.id,
        Phase.AwaitingLayerSelection,
        Phase.AwaitingTrace,
      ]);
    });
  });

  describe("DisputeGameWrongParty", () => {
    it("rejects each move sent by anyone but the party whose move it is", async () => {
      const { f, g } = await networkHelpers.loadFixture(openFixture);
      const { disputeGame, provider, challenger, watcher } = f;
      await rejects(
        f,
        [g],
        () => disputeGame.connect(challenger).revealTrace(g.params, g.c.claimed.layerHashes),
        "DisputeGameWrongParty",
        [g.id, challenger.address, provider.address],
      );
      await revealTrace(f, g);
      await rejects(f, [g], () => disputeGame.connect(provider).selectLayer(g.params, 2), "DisputeGameWrongParty", [
        g.id,
        provider.address,
        challenger.address,
      ]);
      await selectLayer(f, g, 2);
      const activation = vectorToHex(g.c.claimed.activations[2]);
      await rejects(
        f,
        [g],
        () => disputeGame.connect(watcher).revealLayer(g.params, 2, g.c.claimed.layerHashes, activation),
        "DisputeGameWrongParty",
        [g.id, watcher.address, provider.address],
      );
      await revealLayer(f, g, 2);
      await rejects(
        f,
        [g],
        () => disputeGame.connect(provider).proveNeuron(g.params, fraudProof(f, g, 2)),
        "DisputeGameWrongParty",
        [g.id, provider.address, challenger.address],
      );
    });

    it("rejects the input moves of a leaf game sent by the wrong party", async () => {
      const { f, batch, g } = await networkHelpers.loadFixture(leafFixture);
      const { disputeGame, provider, challenger } = f;
      const input = vectorToHex(batch.runs[1].input);
      await rejects(
        f,
        [g],
        () => disputeGame.connect(challenger).revealInput(g.params, input),
        "DisputeGameWrongParty",
        [g.id, challenger.address, provider.address],
      );
      await disputeGame.connect(provider).revealInput(g.params, input);
      await rejects(f, [g], () => disputeGame.connect(provider).continueDispute(g.params), "DisputeGameWrongParty", [
        g.id,
        provider.address,
        challenger.address,
      ]);
    });
  });

  describe("DisputeGameDeadlinePassed and DisputeGameDeadlineNotPassed", () => {
    it("rejects the right party's move one second after its deadline", async () => {
      const { f, g } = await networkHelpers.loadFixture(openFixture);
      const deadline = await deadlineOf(f, g);
      await networkHelpers.time.setNextBlockTimestamp(deadline + 1n);
      await networkHelpers.mine();
      await rejects(f, [g], () => revealTrace(f, g), "DisputeGameDeadlinePassed", [g.id, deadline]);
    });

    it("rejects a timeout before the deadline", async () => {
      const { f, g } = await networkHelpers.loadFixture(openFixture);
      await rejects(f, [g], () => f.disputeGame.timeout(g.params), "DisputeGameDeadlineNotPassed", [
        g.id,
        await deadlineOf(f, g),
      ]);
    });
  });

  describe("DisputeGameAlreadyResolved", () => {
    it("rejects every move, timeout and close of a resolved game", async () => {
      const { f, g } = await networkHelpers.loadFixture(openFixture);
      await passDeadline(connection, f, g);
      await f.disputeGame.timeout(g.params);
      expect((await f.disputeGame.gameOf(g.id)).outcome).to.equal(Outcome.ChallengerWon);
      await rejects(f, [g], () => revealTrace(f, g), "DisputeGameAlreadyResolved", [g.id]);
      await rejects(f, [g], () => selectLayer(f, g, 1), "DisputeGameAlreadyResolved", [g.id]);
      await rejects(f, [g], () => f.disputeGame.timeout(g.params), "DisputeGameAlreadyResolved", [g.id]);
      await rejects(f, [g], () => f.disputeGame.closeOverturned(g.params), "DisputeGameAlreadyResolved", [g.id]);
    });
  });

  describe("opening errors", () => {
    it("DisputeGameInferenceMismatch: the inference does not hash to the commitment", async () => {
      const { f, c, g } = await networkHelpers.loadFixture(openFixture);
      const wrong = inferenceOf(c.honest);
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.challenger2).openDispute(c.id, f.commitments.modelId, wrong),
        "DisputeGameInferenceMismatch",
        [c.id],
      );
    });

    it("DisputeGameUnsupportedEngine: the model is evaluated with another engine", async () => {
      const { f, g } = await networkHelpers.loadFixture(openFixture);
      const engineId = ethers.id("onnx.float32");
      await f.registry
        .connect(f.publisher)
        .registerModel(f.commitments.weightsRoot, f.commitments.graphHash, engineId, "ipfs://onnx", f.policy);
      const modelId = await f.registry.computeModelId(f.commitments.weightsRoot, f.commitments.graphHash, engineId);
      const c = await commitInference(f, { seed: 4, modelId });
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.challenger).openDispute(c.id, modelId, c.inference),
        "DisputeGameUnsupportedEngine",
        [modelId, engineId],
      );
    });

    it("a single commitment opened with an input demand must reveal bytes hashing to its input hash", async () => {
      const { f, c } = await networkHelpers.loadFixture(openFixture);
      const tx = await f.disputeGame
        .connect(f.challenger2)
        .openDisputeWithInputDemand(c.id, f.commitments.modelId, c.inference);
      const params = await paramsFrom(f.disputeGame, tx);
      const id = await f.disputeGame.disputeIdOf(params);
      expect((await f.disputeGame.gameOf(id)).phase).to.equal(BigInt(Phase.AwaitingInput));
      await expect(f.disputeGame.connect(f.provider).revealInput(params, "0x01"))
        .to.be.revertedWithCustomError(f.disputeGame, "DisputeGameInputHashMismatch")
        .withArgs(c.inference.inputHash, ethers.keccak256("0x01"));
      await f.disputeGame.connect(f.provider).revealInput(params, vectorToHex(c.input));
      expect((await f.disputeGame.gameOf(id)).phase).to.equal(BigInt(Phase.InputRevealed));
    });
  });

  describe("DisputeGameDuplicate", () => {
    it("rejects a second game of the same challenger on the same target in the same block", async () => {
      const { f, c } = await networkHelpers.loadFixture(openFixture);
      const open = () =>
        f.disputeGame
          .connect(f.challenger2)
          .openDispute(c.id, f.commitments.modelId, c.inference, { gasLimit: 1_000_000 });
      await connection.provider.request({ method: "evm_setAutomine", params: [false] });
      const first = await open();
      const second = await open();
      await networkHelpers.mine();
      await connection.provider.request({ method: "evm_setAutomine", params: [true] });
      const params = await paramsFrom(f.disputeGame, first);
      const id = await f.disputeGame.disputeIdOf(params);
      expect(params.nonce).to.equal(BigInt((await first.wait())!.blockNumber));
      await expect(second).to.be.revertedWithCustomError(f.disputeGame, "DisputeGameDuplicate").withArgs(id);
      expect(
        (await second.wait().catch((e: { receipt?: { blockNumber: number } }) => e.receipt))?.blockNumber,
      ).to.equal((await first.wait())!.blockNumber);
    });
  });

  describe("DisputeGameInputHashMismatch", () => {
    it("rejects a revealed input that does not hash to the leaf's input hash", async () => {
      const { f, batch, g } = await networkHelpers.loadFixture(leafFixture);
      const wrong = vectorToHex(batch.runs[0].input);
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.provider).revealInput(g.params, wrong),
        "DisputeGameInputHashMismatch",
        [batch.leaf(1).inference.inputHash, ethers.keccak256(wrong)],
      );
    });
  });

  describe("trace errors", () => {
    it("DisputeGameInvalidTraceLength: fewer than two hashes", async () => {
      const { f, g } = await networkHelpers.loadFixture(openFixture);
      const reveal = (hashes: string[]) => () => f.disputeGame.connect(f.provider).revealTrace(g.params, hashes);
      await rejects(f, [g], reveal([]), "DisputeGameInvalidTraceLength", [0]);
      await rejects(f, [g], reveal([g.c.inference.inputHash]), "DisputeGameInvalidTraceLength", [1]);
    });

    it("DisputeGameTraceRootMismatch: the hashes are not the committed trace", async () => {
      const { f, g } = await networkHelpers.loadFixture(openFixture);
      const honest = g.c.honest.layerHashes;
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.provider).revealTrace(g.params, honest),
        "DisputeGameTraceRootMismatch",
        [g.c.inference.traceRoot, traceRoot(honest)],
      );
    });

    it("DisputeGameTraceInputMismatch: s_0 is not the committed input hash", async () => {
      const { f } = await networkHelpers.loadFixture(openFixture);
      const other = infer(f.model, pseudoDigit(9));
      const inference = { ...inferenceOf(other), inputHash: hashVector(pseudoDigit(5)) };
      const c = await commitInference(f, { seed: 5, claimed: other, inference });
      const g = await openGame(f, c);
      await rejects(f, [g], () => revealTrace(f, g), "DisputeGameTraceInputMismatch", [
        inference.inputHash,
        other.inputHash,
      ]);
    });

    it("DisputeGameTraceOutputMismatch: s_L is not the committed output hash", async () => {
      const { f } = await networkHelpers.loadFixture(openFixture);
      const honest = infer(f.model, pseudoDigit(5));
      const inference = { ...inferenceOf(honest), outputHash: ethers.id("another output") };
      const c = await commitInference(f, { seed: 5, claimed: honest, inference });
      const g = await openGame(f, c);
      await rejects(f, [g], () => revealTrace(f, g), "DisputeGameTraceOutputMismatch", [
        inference.outputHash,
        honest.outputHash,
      ]);
    });
  });

  describe("layer errors", () => {
    it("DisputeGameInvalidLayer: layer 0 or above L", async () => {
      const { f, g } = await networkHelpers.loadFixture(openFixture);
      await revealTrace(f, g);
      await rejects(f, [g], () => selectLayer(f, g, 0), "DisputeGameInvalidLayer", [0, 3]);
      await rejects(f, [g], () => selectLayer(f, g, 4), "DisputeGameInvalidLayer", [4, 3]);
    });

    it("DisputeGameUnexpectedLayer: the provider answers another layer than the selected one", async () => {
      const { f, g } = await networkHelpers.loadFixture(openFixture);
      await revealTrace(f, g);
      await selectLayer(f, g, 2);
      await rejects(f, [g], () => revealLayer(f, g, 3), "DisputeGameUnexpectedLayer", [3, 2]);
    });

    it("DisputeGameActivationMismatch: the revealed activation is not the preimage of s_l", async () => {
      const { f, g } = await networkHelpers.loadFixture(openFixture);
      await revealTrace(f, g);
      await selectLayer(f, g, 2);
      const honest = g.c.honest.activations[2];
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.provider).revealLayer(g.params, 2, g.c.claimed.layerHashes, vectorToHex(honest)),
        "DisputeGameActivationMismatch",
        [2, g.c.claimed.layerHashes[2], hashVector(honest)],
      );
    });

    it("DisputeGameTraceRootMismatch: revealLayer with hashes that are not the committed trace", async () => {
      const { f, g } = await networkHelpers.loadFixture(openFixture);
      await revealTrace(f, g);
      await selectLayer(f, g, 2);
      const forged: string[] = [...g.c.claimed.layerHashes];
      forged[3] = ethers.id("forged");
      await rejects(
        f,
        [g],
        () =>
          f.disputeGame.connect(f.provider).revealLayer(g.params, 2, forged, vectorToHex(g.c.claimed.activations[2])),
        "DisputeGameTraceRootMismatch",
        [g.c.inference.traceRoot, traceRoot(forged)],
      );
    });
  });

  describe("neuron proof errors", () => {
    it("DisputeGameActivationMismatch: the input or output is not the preimage of s_(l-1) or s_l", async () => {
      const { f, g } = await networkHelpers.loadFixture(proofFixture);
      const proof = fraudProof(f, g, 2);
      const input = g.c.claimed.activations[1].slice();
      input[0] ^= 1;
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.challenger).proveNeuron(g.params, { ...proof, input: vectorToHex(input) }),
        "DisputeGameActivationMismatch",
        [1, g.c.claimed.layerHashes[1], hashVector(input)],
      );
      const output = g.c.honest.activations[2];
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.challenger).proveNeuron(g.params, { ...proof, output: vectorToHex(output) }),
        "DisputeGameActivationMismatch",
        [2, g.c.claimed.layerHashes[2], hashVector(output)],
      );
    });

    it("DisputeGameTraceRootMismatch: the proof's hashes are not the committed trace", async () => {
      const { f, g } = await networkHelpers.loadFixture(proofFixture);
      const proof = fraudProof(f, g, 2);
      const forged = [...proof.layerHashes].reverse();
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.challenger).proveNeuron(g.params, { ...proof, layerHashes: forged }),
        "DisputeGameTraceRootMismatch",
        [g.c.inference.traceRoot, traceRoot(forged)],
      );
    });

    it("DisputeGameModelMismatch: a wrong weights root or graph", async () => {
      const { f, g } = await networkHelpers.loadFixture(proofFixture);
      const proof = fraudProof(f, g, 2);
      const root = ethers.id("other weights");
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.challenger).proveNeuron(g.params, { ...proof, weightsRoot: root }),
        "DisputeGameModelMismatch",
        [f.commitments.modelId, modelIdOf(root, f.commitments.graphHash)],
      );
      const graph = proof.graph.map((s, i) => (i === 1 ? { ...s, relu: !s.relu } : s));
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.challenger).proveNeuron(g.params, { ...proof, graph }),
        "DisputeGameModelMismatch",
        [f.commitments.modelId, modelIdOf(f.commitments.weightsRoot, graphHash(graph))],
      );
    });

    it("DisputeGameInputLengthMismatch: layer l-1's vector has the wrong width above layer 1", async () => {
      const { f } = await networkHelpers.loadFixture(openFixture);
      const h = infer(f.model, pseudoDigit(6)).activations;
      const claimed = traceOf([h[0], h[1].slice(0, 127), h[2], h[3]]);
      const c = await commitInference(f, { seed: 6, claimed });
      const g = await openGame(f, c);
      await playToProof(f, g, 2);
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.challenger).proveNeuron(g.params, neuronProofAt(f, g, 2, 0)),
        "DisputeGameInputLengthMismatch",
        [128, 127],
      );
    });

    it("DisputeGameInvalidNeuron: the neuron index is not below the layer's width", async () => {
      const { f, g } = await networkHelpers.loadFixture(proofFixture);
      const proof = { ...fraudProof(f, g, 2), neuron: 64 };
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.challenger).proveNeuron(g.params, proof),
        "DisputeGameInvalidNeuron",
        [64, 64],
      );
    });

    it("DisputeGameInvalidRowProof: a tampered row, bias or proof, or another neuron's row", async () => {
      const { f, g } = await networkHelpers.loadFixture(proofFixture);
      const proof = fraudProof(f, g, 2);
      const row = ethers.getBytes(proof.row);
      row[0] ^= 1;
      const other = f.commitments.tree.proof(2, 6);
      const tampered = [
        { ...proof, row: ethers.hexlify(row) },
        { ...proof, bias: proof.bias + 1 },
        { ...proof, rowProof: proof.rowProof.slice(1) },
        { ...proof, rowProof: [ethers.id("sibling"), ...proof.rowProof.slice(1)] },
        { ...proof, bias: other.bias, row: other.row, rowProof: other.proof },
      ];
      for (const bad of tampered) {
        await rejects(
          f,
          [g],
          () => f.disputeGame.connect(f.challenger).proveNeuron(g.params, bad),
          "DisputeGameInvalidRowProof",
          [2, 5],
        );
      }
    });

    it("DisputeGameNeuronMatches: the disputed neuron is the provider's correct value", async () => {
      const { f, g } = await networkHelpers.loadFixture(proofFixture);
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.challenger).proveNeuron(g.params, neuronProofAt(f, g, 2, 4)),
        "DisputeGameNeuronMatches",
        [4, g.c.honest.activations[2][4]],
      );
    });
  });

  describe("DisputeGameTargetNotOverturned", () => {
    it("rejects closing a game whose target is not overturned", async () => {
      const { f, g } = await networkHelpers.loadFixture(openFixture);
      await rejects(f, [g], () => f.disputeGame.closeOverturned(g.params), "DisputeGameTargetNotOverturned", [g.id]);
      const { g: leaf } = await leafFixtureOn(f);
      await rejects(f, [leaf], () => f.disputeGame.closeOverturned(leaf.params), "DisputeGameTargetNotOverturned", [
        leaf.id,
      ]);
    });
  });

  describe("DisputeGameZeroAddress", () => {
    it("rejects a zero admin, registry, ledger or stake manager at construction", async () => {
      const { f } = await networkHelpers.loadFixture(openFixture);
      const args = [
        f.admin.address,
        await f.registry.getAddress(),
        await f.ledger.getAddress(),
        await f.stakeManager.getAddress(),
      ];
      for (let i = 0; i < args.length; i++) {
        const withZero = args.map((a, j) => (j === i ? ethers.ZeroAddress : a));
        await expect(ethers.deployContract("DisputeGame", withZero))
          .to.be.revertedWithCustomError(f.disputeGame, "DisputeGameZeroAddress")
          .withArgs();
      }
      const ok = await ethers.deployContract("DisputeGame", args);
      expect(await ok.stakeManager()).to.equal(args[3]);
    });
  });
});

/** A leaf game (no demand) on a fresh batch of an existing fixture. */
async function leafFixtureOn(f: Mnist) {
  const batch = await commitBatch(f, [7, 8]);
  const g = await openLeafGame(f, batch, 0, false);
  return { batch, g };
}
