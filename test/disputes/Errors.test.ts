import { expect } from "chai";
import { network } from "hardhat";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { hashVector, traceRoot } from "../../src/engine/index.js";
import { infer, paramsFrom, pseudoDigit } from "../helpers/disputeFixture.js";
import {
  checkVaultAfterEach,
  commitBatch,
  commitInference,
  deadlineOf,
  deployDisputes,
  fingerprint,
  fraudProof,
  inferenceOf,
  keyOf,
  neuronProofAt,
  openGame,
  openLeafGame,
  Outcome,
  passDeadline,
  Phase,
  playToProof,
  revealInput,
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
  // The ledger records and reward pools of the targets (a leaf's pool is under its leaf key).
  const keys = await Promise.all(games.map((g) => f.disputeGame.targetKeyOf(g.params)));
  const targets = [...new Set([...games.map((g) => g.c.id), ...keys])];
  const before = await fingerprint(f, ids, targets);
  await expect(call())
    .to.be.revertedWithCustomError(f.disputeGame, name)
    .withArgs(...args);
  expect(await fingerprint(f, ids, targets)).to.deep.equal(before);
}

describe("DisputeGame errors", () => {
  const guard = checkVaultAfterEach();
  /** Loads a fixture and hands its deployment to the vault check (run after every test). */
  const load = async <T extends { f: Mnist }>(fixture: () => Promise<T>): Promise<T> => {
    const s = await networkHelpers.loadFixture(fixture);
    guard(s.f);
    return s;
  };
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
      ["numLayers", (p) => ({ ...p, numLayers: 2n })],
      ["nonce", (p) => ({ ...p, nonce: BigInt(p.nonce) + 1n })],
    ];
    for (const [field, tamper] of tamperings) {
      it(`rejects every move, timeout and close with params whose ${field} was tampered`, async () => {
        const { f, g } = await load(openFixture);
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
        await rejects(
          f,
          [g],
          () => disputeGame.connect(f.challenger).closeOverturned(bad),
          "DisputeGameUnknownDispute",
          [id],
        );
        await rejects(f, [g], () => disputeGame.claimReward(bad), "DisputeGameNoReward", [id]);
      });
    }
  });

  describe("DisputeGameUnexpectedPhase", () => {
    it("rejects every challenger move and the input moves while the game awaits the trace", async () => {
      const { f, g } = await load(openFixture);
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
      const { f, g } = await load(openFixture);
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
      const { f, g } = await load(openFixture);
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
      const { f, batch, g } = await load(leafFixture);
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
      const { f, g } = await load(openFixture);
      const deadline = await deadlineOf(f, g);
      await networkHelpers.time.setNextBlockTimestamp(deadline + 1n);
      await networkHelpers.mine();
      await rejects(f, [g], () => revealTrace(f, g), "DisputeGameDeadlinePassed", [g.id, deadline]);
    });

    it("rejects a timeout before the deadline", async () => {
      const { f, g } = await load(openFixture);
      await rejects(f, [g], () => f.disputeGame.timeout(g.params), "DisputeGameDeadlineNotPassed", [
        g.id,
        await deadlineOf(f, g),
      ]);
    });
  });

  describe("DisputeGameAlreadyResolved", () => {
    it("rejects every move, timeout and close of a resolved game", async () => {
      const { f, g } = await load(openFixture);
      await passDeadline(connection, f, g);
      await f.disputeGame.timeout(g.params);
      expect((await f.disputeGame.gameOf(g.id)).outcome).to.equal(Outcome.ChallengerWon);
      await rejects(f, [g], () => revealTrace(f, g), "DisputeGameAlreadyResolved", [g.id]);
      await rejects(f, [g], () => selectLayer(f, g, 1), "DisputeGameAlreadyResolved", [g.id]);
      await rejects(f, [g], () => f.disputeGame.timeout(g.params), "DisputeGameAlreadyResolved", [g.id]);
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.challenger).closeOverturned(g.params),
        "DisputeGameAlreadyResolved",
        [g.id],
      );
    });
  });

  describe("opening errors", () => {
    it("DisputeGameInputAlreadyPublic: an input demand on a commitment whose event carries the input", async () => {
      const { f, c, g } = await load(openFixture);
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.challenger2).openDispute(keyOf(c), true, 1n),
        "DisputeGameInputAlreadyPublic",
        [c.id],
      );
    });

    it("a URI commitment opened with an input demand must reveal exactly inDim bytes hashing to its input hash", async () => {
      const { f } = await load(openFixture);
      const c = await commitInference(f, { seed: 3, uri: true });
      const g = await openGame(f, c, f.challenger2, { demandInput: true });
      expect((await f.disputeGame.gameOf(g.id)).phase).to.equal(Phase.AwaitingInput);
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.provider).revealInput(g.params, "0x01"),
        "DisputeGameInputLengthMismatch",
        [784, 1],
      );
      const other = vectorToHex(pseudoDigit(4));
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.provider).revealInput(g.params, other),
        "DisputeGameInputHashMismatch",
        [c.inference.inputHash, ethers.keccak256(other)],
      );
      await revealInput(f, g);
      expect((await f.disputeGame.gameOf(g.id)).phase).to.equal(Phase.InputRevealed);
    });
  });

  describe("DisputeGameDuplicate and opener-chosen nonces", () => {
    it("lands the same opening on the same id in another block after a reorg", async () => {
      // Before: the nonce was the opening's block number, so a reorg that moved the opening to another block
      // gave it another id, and every move signed for the first id missed. Now the opener chooses the nonce.
      const { f, c } = await load(openFixture);
      const open = () => f.disputeGame.connect(f.challenger2).openDispute(keyOf(c), false, 42n);
      const snapshot = await networkHelpers.takeSnapshot();
      const first = await open();
      const params = await paramsFrom(f.disputeGame, first);
      const id = await f.disputeGame.disputeIdOf(params);
      const block = (await first.wait())!.blockNumber;
      // Undo the opening (as a reorg would), let some blocks pass, and send it again.
      await snapshot.restore();
      expect((await f.disputeGame.gameOf(id)).phase).to.equal(Phase.None);
      await networkHelpers.mine(5);
      const again = await open();
      expect((await again.wait())!.blockNumber).to.be.greaterThan(block);
      const paramsAgain = await paramsFrom(f.disputeGame, again);
      expect(paramsAgain).to.deep.equal(params);
      expect(await f.disputeGame.disputeIdOf(paramsAgain)).to.equal(id);
      expect((await f.disputeGame.gameOf(id)).phase).to.equal(Phase.AwaitingTrace);
      // A move signed for the first opening lands on the game that exists now.
      await expect(f.disputeGame.connect(f.provider).revealTrace(params, c.claimed.layerHashes))
        .to.emit(f.disputeGame, "TraceRevealed")
        .withArgs(id, c.claimed.layerHashes, anyValue);
    });

    it("rejects a second opening with the same nonce; another nonce opens another game", async () => {
      const { f, c, g } = await load(openFixture);
      const dup = await openGame(f, c, f.challenger2, { nonce: 9n });
      await rejects(
        f,
        [g, dup],
        () => f.disputeGame.connect(f.challenger2).openDispute(keyOf(c), false, 9n),
        "DisputeGameDuplicate",
        [dup.id],
      );
      // The demand flag is not part of the id: with the same nonce it is the same game.
      const uri = await commitInference(f, { seed: 6, uri: true });
      const plain = await openGame(f, uri, f.challenger2, { nonce: 9n });
      await rejects(
        f,
        [plain],
        () => f.disputeGame.connect(f.challenger2).openDispute(keyOf(uri), true, 9n),
        "DisputeGameDuplicate",
        [plain.id],
      );
      const other = await openGame(f, c, f.challenger2, { nonce: 10n });
      expect(other.id).to.not.equal(dup.id);
      expect((await f.ledger.recordOf(c.id)).openDisputes).to.equal(3n);
    });

    it("rejects a second opening with the same nonce in the same block", async () => {
      const { f, c } = await load(openFixture);
      const open = () => f.disputeGame.connect(f.challenger2).openDispute(keyOf(c), false, 5n, { gasLimit: 1_000_000 });
      await connection.provider.request({ method: "evm_setAutomine", params: [false] });
      const first = await open();
      const second = await open();
      await networkHelpers.mine();
      await connection.provider.request({ method: "evm_setAutomine", params: [true] });
      const params = await paramsFrom(f.disputeGame, first);
      const id = await f.disputeGame.disputeIdOf(params);
      expect(params.nonce).to.equal(5n);
      await expect(second).to.be.revertedWithCustomError(f.disputeGame, "DisputeGameDuplicate").withArgs(id);
      expect(
        (await second.wait().catch((e: { receipt?: { blockNumber: number } }) => e.receipt))?.blockNumber,
      ).to.equal((await first.wait())!.blockNumber);
    });
  });

  describe("DisputeGameInputHashMismatch", () => {
    it("rejects a revealed input that does not hash to the leaf's input hash", async () => {
      const { f, batch, g } = await load(leafFixture);
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
    it("DisputeGameInvalidTraceLength: anything but L + 1 hashes", async () => {
      const { f, g } = await load(openFixture);
      const hashes = g.c.claimed.layerHashes;
      const reveal = (h: string[]) => () => f.disputeGame.connect(f.provider).revealTrace(g.params, h);
      await rejects(f, [g], reveal([]), "DisputeGameInvalidTraceLength", [0, 4]);
      await rejects(f, [g], reveal([hashes[0]]), "DisputeGameInvalidTraceLength", [1, 4]);
      await rejects(f, [g], reveal(hashes.slice(0, 3)), "DisputeGameInvalidTraceLength", [3, 4]);
      await rejects(f, [g], reveal([...hashes, hashes[3]]), "DisputeGameInvalidTraceLength", [5, 4]);
    });

    it("DisputeGameTraceRootMismatch: the hashes are not the committed trace", async () => {
      const { f, g } = await load(openFixture);
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
      const { f } = await load(openFixture);
      const other = infer(f.model, pseudoDigit(9));
      const inference = { ...inferenceOf(other), inputHash: hashVector(pseudoDigit(5)) };
      const c = await commitInference(f, { seed: 5, claimed: other, inference, uri: true });
      const g = await openGame(f, c);
      await rejects(f, [g], () => revealTrace(f, g), "DisputeGameTraceInputMismatch", [
        inference.inputHash,
        other.inputHash,
      ]);
    });

    it("DisputeGameTraceOutputMismatch: s_L is not the committed output hash", async () => {
      const { f } = await load(openFixture);
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
      const { f, g } = await load(openFixture);
      await revealTrace(f, g);
      await rejects(f, [g], () => selectLayer(f, g, 0), "DisputeGameInvalidLayer", [0, 3]);
      await rejects(f, [g], () => selectLayer(f, g, 4), "DisputeGameInvalidLayer", [4, 3]);
    });

    it("DisputeGameUnexpectedLayer: the provider answers another layer than the selected one", async () => {
      const { f, g } = await load(openFixture);
      await revealTrace(f, g);
      await selectLayer(f, g, 2);
      await rejects(f, [g], () => revealLayer(f, g, 3), "DisputeGameUnexpectedLayer", [3, 2]);
    });

    it("DisputeGameActivationLengthMismatch: the revealed activation is not outDim(l) bytes", async () => {
      const { f, g } = await load(openFixture);
      await revealTrace(f, g);
      await selectLayer(f, g, 2);
      const reveal = (v: Int8Array) => () =>
        f.disputeGame.connect(f.provider).revealLayer(g.params, 2, g.c.claimed.layerHashes, vectorToHex(v));
      const claimed = g.c.claimed.activations[2];
      await rejects(f, [g], reveal(claimed.slice(0, 63)), "DisputeGameActivationLengthMismatch", [2, 64, 63]);
      await rejects(f, [g], reveal(new Int8Array(65)), "DisputeGameActivationLengthMismatch", [2, 64, 65]);
      await rejects(f, [g], reveal(new Int8Array(0)), "DisputeGameActivationLengthMismatch", [2, 64, 0]);
    });

    it("DisputeGameActivationMismatch: the revealed activation is not the preimage of s_l", async () => {
      const { f, g } = await load(openFixture);
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

    it("DisputeGameTraceRootMismatch and InvalidTraceLength: revealLayer with hashes that are not the trace", async () => {
      const { f, g } = await load(openFixture);
      await revealTrace(f, g);
      await selectLayer(f, g, 2);
      const forged: string[] = [...g.c.claimed.layerHashes];
      forged[3] = ethers.id("forged");
      const activation = vectorToHex(g.c.claimed.activations[2]);
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.provider).revealLayer(g.params, 2, forged, activation),
        "DisputeGameTraceRootMismatch",
        [g.c.inference.traceRoot, traceRoot(forged)],
      );
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.provider).revealLayer(g.params, 2, forged.slice(0, 3), activation),
        "DisputeGameInvalidTraceLength",
        [3, 4],
      );
    });
  });

  describe("neuron proof errors", () => {
    /** `keccak256(abi.encode(a, b))`: the pair of vector hashes the game records at revealLayer. */
    const pair = (a: string, b: string) =>
      ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [a, b]));

    it("DisputeGameVectorsMismatch: the input or output is not the recorded s_(l-1) or s_l", async () => {
      const { f, g } = await load(proofFixture);
      const proof = fraudProof(f, g, 2);
      const stored = pair(g.c.claimed.layerHashes[1], g.c.claimed.layerHashes[2]);
      const input = g.c.claimed.activations[1].slice();
      input[0] ^= 1;
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.challenger).proveNeuron(g.params, { ...proof, input: vectorToHex(input) }),
        "DisputeGameVectorsMismatch",
        [stored, pair(hashVector(input), g.c.claimed.layerHashes[2])],
      );
      const output = g.c.honest.activations[2];
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.challenger).proveNeuron(g.params, { ...proof, output: vectorToHex(output) }),
        "DisputeGameVectorsMismatch",
        [stored, pair(g.c.claimed.layerHashes[1], hashVector(output))],
      );
      // Swapped vectors do not pass either.
      await rejects(
        f,
        [g],
        () =>
          f.disputeGame
            .connect(f.challenger)
            .proveNeuron(g.params, { ...proof, input: proof.output, output: proof.input }),
        "DisputeGameVectorsMismatch",
        [stored, pair(g.c.claimed.layerHashes[2], g.c.claimed.layerHashes[1])],
      );
    });

    it("DisputeGamePreviousLengthMismatch: layer l-1's vector has the wrong width above layer 1", async () => {
      const { f } = await load(openFixture);
      const h = infer(f.model, pseudoDigit(6)).activations;
      const claimed = traceOf([h[0], h[1].slice(0, 127), h[2], h[3]]);
      const c = await commitInference(f, { seed: 6, claimed });
      const g = await openGame(f, c);
      await playToProof(f, g, 2);
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.challenger).proveNeuron(g.params, neuronProofAt(f, g, 2, 0)),
        "DisputeGamePreviousLengthMismatch",
        [128, 127],
      );
    });

    it("DisputeGameInvalidNeuron: the neuron index is not below the layer's width", async () => {
      const { f, g } = await load(proofFixture);
      for (const neuron of [64, 2 ** 32 - 1]) {
        const proof = { ...fraudProof(f, g, 2), neuron };
        await rejects(
          f,
          [g],
          () => f.disputeGame.connect(f.challenger).proveNeuron(g.params, proof),
          "DisputeGameInvalidNeuron",
          [neuron, 64],
        );
      }
    });

    it("DisputeGameInvalidRowProof: a tampered row, bias or proof, or another neuron's row", async () => {
      const { f, g } = await load(proofFixture);
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
      const { f, g } = await load(proofFixture);
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.challenger).proveNeuron(g.params, neuronProofAt(f, g, 2, 4)),
        "DisputeGameNeuronMatches",
        [4, g.c.honest.activations[2][4]],
      );
    });
  });

  describe("closing and reward errors", () => {
    it("DisputeGameTargetNotOverturned: closing a game whose target is not overturned", async () => {
      const { f, g } = await load(openFixture);
      await rejects(
        f,
        [g],
        () => f.disputeGame.connect(f.challenger).closeOverturned(g.params),
        "DisputeGameTargetNotOverturned",
        [g.id],
      );
      const { g: leaf } = await leafFixtureOn(f);
      await rejects(
        f,
        [leaf],
        () => f.disputeGame.connect(f.challenger).closeOverturned(leaf.params),
        "DisputeGameTargetNotOverturned",
        [leaf.id],
      );
    });

    it("DisputeGameWrongParty: closing another challenger's game, even the provider's", async () => {
      const { f, c, g } = await load(openFixture);
      const other = await openGame(f, c, f.challenger2);
      await passDeadline(connection, f, g);
      await f.disputeGame.timeout(g.params); // overturns c; `other` stays open
      for (const who of [f.provider, f.challenger, f.watcher]) {
        await rejects(
          f,
          [g, other],
          () => f.disputeGame.connect(who).closeOverturned(other.params),
          "DisputeGameWrongParty",
          [other.id, who.address, f.challenger2.address],
        );
      }
    });

    it("DisputeGameRewardPending and DisputeGameNoReward: claims before the pool settles, twice, or by a loser", async () => {
      const { f, c, g } = await load(openFixture);
      const other = await openGame(f, c, f.challenger2);
      const unknown = { ...g.params, nonce: 12345n };
      await rejects(f, [g, other], () => f.disputeGame.claimReward(g.params), "DisputeGameNoReward", [g.id]);
      await passDeadline(connection, f, g);
      await f.disputeGame.timeout(g.params);
      await rejects(f, [g, other], () => f.disputeGame.claimReward(g.params), "DisputeGameRewardPending", [g.id, 1]);
      await rejects(f, [g, other], () => f.disputeGame.claimReward(other.params), "DisputeGameNoReward", [other.id]);
      await rejects(f, [g, other], () => f.disputeGame.claimReward(unknown), "DisputeGameNoReward", [
        await f.disputeGame.disputeIdOf(unknown),
      ]);
      await f.disputeGame.connect(f.challenger2).closeOverturned(other.params);
      await f.disputeGame.claimReward(g.params);
      await rejects(f, [g, other], () => f.disputeGame.claimReward(g.params), "DisputeGameNoReward", [g.id]);
      await rejects(f, [g, other], () => f.disputeGame.claimReward(other.params), "DisputeGameNoReward", [other.id]);
    });
  });

  describe("DisputeGameZeroAddress", () => {
    it("rejects a zero admin, registry, ledger or stake manager at construction", async () => {
      const { f } = await load(openFixture);
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
