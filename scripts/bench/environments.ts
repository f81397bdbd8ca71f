import { generateKeyPairSync } from "node:crypto";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { Wallet, dataSlice } from "ethers";
import { vectorToHex } from "../../src/engine/index.js";
import { reportBindingOf, reportDataOf, TeeKind } from "../../src/protocol/tee.js";
import { encodeEvidence, p256PublicKeyOf, signStatement, TcbStatus, TeeType } from "../../src/sdk/attestation/index.js";
import { infer, pseudoDigit } from "../../test/helpers/disputeFixture.js";
import { DAY, randomHash } from "../../test/helpers/fixtures.js";
import { tdxQuote } from "../../test/helpers/quotes.js";
import { deployWithTee, tdxMeasurement, TeeMode } from "../../test/helpers/teeFixture.js";
import { gasOf, type BenchRunner } from "./types.js";

/**
 * Gas of the environment registry and of TEE-signed commitments (tx gasUsed): key registration per verifier
 * kind, `commitTee` and `commitTeeBatch` (32-byte input reference, like `commit`), and the revocations.
 * `registerEnclave_automataDcap_adapterOnly` runs the adapter and the registry against a test double of
 * Automata's verifier that parses the quote but checks no signature or collateral: Automata's own on-chain
 * verification (about 4-5M gas per quote) comes on top.
 */
export const benchEnvironments: BenchRunner = async (connection) => {
  const { ethers } = connection;
  const f = await deployWithTee(connection, TeeMode.Window);
  const { environmentRegistry: envs, attestationService, ledger, provider, admin } = f;
  const gas: Record<string, number> = {};
  const now = async () => (await ethers.provider.getBlock("latest"))!.timestamp;

  gas.approveEnvironment = await gasOf(
    await envs.connect(admin).approveEnvironment(TeeKind.IntelTdx, tdxMeasurement(9), "ipfs://env-9"),
  );
  gas.issueNonce = await gasOf(await envs.connect(provider).issueNonce());

  // The attestation service with a secp256k1 key (the fixture's) and with a P-256 key.
  {
    const key = Wallet.createRandom();
    const nonce = await f.issueNonce(provider);
    const evidence = await f.evidenceFor(key.address, nonce);
    gas.registerEnclave_attestationServiceSecp256k1 = await gasOf(
      await envs.connect(provider).registerEnclave(attestationService, evidence, nonce, (await now()) + 7 * DAY),
    );
  }
  {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const { qx, qy } = p256PublicKeyOf(privateKey);
    await attestationService.connect(admin).approveP256Signer(qx, qy);
    const key = Wallet.createRandom();
    const nonce = await f.issueNonce(provider);
    const statement = {
      teeType: TeeType.IntelTdx,
      measurement: tdxMeasurement(1),
      enclaveKey: key.address,
      binding: reportBindingOf(f.chainId, await envs.getAddress(), key.address, nonce),
      tcbStatus: TcbStatus.UpToDate,
      expiry: BigInt(await now()) + BigInt(30 * DAY),
    };
    const signed = await signStatement(
      statement,
      { kind: "p256", privateKey },
      { chainId: f.chainId, verifyingContract: await attestationService.getAddress() },
    );
    gas.registerEnclave_attestationServiceP256 = await gasOf(
      await envs
        .connect(provider)
        .registerEnclave(
          attestationService,
          encodeEvidence(signed.statement, signed.signerId, signed.signature),
          nonce,
          (await now()) + 7 * DAY,
        ),
    );
  }
  {
    const automata = await ethers.deployContract("MockAutomataDcapAttestation");
    const adapter = await ethers.deployContract("AutomataDcapAdapter", [await automata.getAddress()]);
    await envs.connect(admin).approveVerifier(adapter);
    const key = Wallet.createRandom();
    const nonce = await f.issueNonce(provider);
    const m = tdxMeasurement(1);
    const quote = tdxQuote({
      mrtd: dataSlice(m, 0, 48),
      rtmrs: [dataSlice(m, 48, 96), dataSlice(m, 96, 144), dataSlice(m, 144, 192), dataSlice(m, 192, 240)],
      reportData: reportDataOf(key.address, reportBindingOf(f.chainId, await envs.getAddress(), key.address, nonce)),
    });
    gas.registerEnclave_automataDcap_adapterOnly = await gasOf(
      await envs.connect(provider).registerEnclave(adapter, quote, nonce, (await now()) + 7 * DAY),
    );
  }

  // commitTee with a 32-byte input reference: the steady state is the max of a few.
  let commitTee = 0;
  for (let i = 0; i < 3; i++) {
    const inference = { inputHash: randomHash(ethers), outputHash: randomHash(ethers), traceRoot: randomHash(ethers) };
    const seal = await f.seal(f.enclave, inference);
    const tx = await ledger.connect(provider).commitTee(f.modelId, inference, randomHash(ethers), seal);
    commitTee = Math.max(commitTee, await gasOf(tx));
  }
  gas.commitTee = commitTee;
  const run = infer(f.model, pseudoDigit(1));
  const inference = { inputHash: run.inputHash, outputHash: run.outputHash, traceRoot: run.traceRoot };
  gas.commitTee_publicInput_784 = await gasOf(
    await ledger
      .connect(provider)
      .commitTee(f.modelId, inference, vectorToHex(pseudoDigit(1)), await f.seal(f.enclave, inference)),
  );
  for (const size of [1, 1024]) {
    const leaves = Array.from({ length: size }, () => [randomHash(ethers), randomHash(ethers), randomHash(ethers)]);
    const tree = StandardMerkleTree.of(leaves, ["bytes32", "bytes32", "bytes32"]);
    const seal = await f.batchSeal(f.enclave, tree.root, size);
    gas[`commitTeeBatch_${size}`] = await gasOf(
      await ledger.connect(provider).commitTeeBatch(f.modelId, tree.root, size, `ipfs://batch-${size}`, seal),
    );
  }

  gas.allowEnvironment = await gasOf(
    await f.registry.connect(f.publisher).allowEnvironment(f.modelId, await f.approveEnvironment(10)),
  );
  gas.revokeEnclave = await gasOf(await envs.connect(provider).revokeEnclave(f.enclave.address));
  // One transaction disables every key of the measurement, however many there are.
  gas.revokeMeasurement = await gasOf(await envs.connect(admin).revokeEnvironment(f.environment));
  return { gas };
};
