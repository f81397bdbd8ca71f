import { expect } from "chai";
import { network } from "hardhat";
import { generateKeyPairSync, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { AbiCoder, Signature, Wallet, getBytes, hexlify, keccak256, toBeHex, toUtf8Bytes, ZeroAddress } from "ethers";
import {
  ATTESTATION_SERVICE_VERIFIER_KIND,
  TcbStatus,
  TeeType,
  encodeEvidence,
  p256PublicKeyOf,
  p256SignerId,
  secp256k1SignerId,
  signStatement,
  statementDigest,
  type ServiceStatement,
  type StatementSigner,
} from "../../src/sdk/attestation/index.js";
import type { AttestationServiceVerifier } from "../../typechain-types/index.js";

const { ethers, networkHelpers } = await network.create();
const coder = AbiCoder.defaultAbiCoder();

const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const KeyKind = { None: 0n, P256: 1n, Secp256k1: 2n } as const;
const SignerStatus = { None: 0n, Approved: 1n, Revoked: 2n } as const;
const EVIDENCE_TYPES = [
  "tuple(uint8 teeType, bytes measurement, address enclaveKey, bytes32 binding, uint8 tcbStatus, uint64 expiry)",
  "bytes32",
  "bytes",
];

/** `length` bytes, all `fill`. */
function bytesOf(length: number, fill = 0xab): string {
  return hexlify(new Uint8Array(length).fill(fill));
}

function p256Key(): KeyObject {
  return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
}

/** The statement tuple as the contract returns and takes it. */
function tupleOf(s: ServiceStatement) {
  return [BigInt(s.teeType), s.measurement, s.enclaveKey, s.binding, BigInt(s.tcbStatus), s.expiry];
}

/** Evidence encoded without the SDK's validation, to present statements the SDK refuses to build. */
function rawEvidence(s: ServiceStatement, signerId: string, signature: string): string {
  return coder.encode(EVIDENCE_TYPES, [tupleOf(s), signerId, signature]);
}

/** Replaces s by n - s in a 64-byte r ‖ s signature. */
function highS64(signature: string): string {
  const bytes = getBytes(signature);
  const s = BigInt(hexlify(bytes.subarray(32, 64)));
  return hexlify(new Uint8Array([...bytes.subarray(0, 32), ...getBytes(toBeHex(P256_N - s, 32))]));
}

describe("AttestationServiceVerifier", () => {
  async function deployed() {
    const [admin, outsider] = await ethers.getSigners();
    const verifier = (await ethers.deployContract("AttestationServiceVerifier", [
      admin.address,
    ])) as unknown as AttestationServiceVerifier;
    const chainId = (await ethers.provider.getNetwork()).chainId;
    const domain = { chainId, verifyingContract: await verifier.getAddress() };
    return { admin, outsider, verifier, chainId, domain };
  }

  /** A verifier with one approved P-256 key and one approved secp256k1 key. */
  async function withSigners() {
    const base = await deployed();
    const p256: StatementSigner = { kind: "p256", privateKey: p256Key() };
    const { qx, qy } = p256PublicKeyOf(p256.privateKey);
    const wallet = Wallet.createRandom();
    const k1: StatementSigner = { kind: "secp256k1", wallet };
    await base.verifier.approveP256Signer(qx, qy);
    await base.verifier.approveSecp256k1Signer(wallet.address);
    const now = BigInt(await networkHelpers.time.latest());
    const statement: ServiceStatement = {
      teeType: TeeType.IntelTdx,
      measurement: bytesOf(240),
      enclaveKey: Wallet.createRandom().address,
      binding: keccak256(toUtf8Bytes("binding")),
      tcbStatus: TcbStatus.UpToDate,
      expiry: now + 3600n,
    };
    return {
      ...base,
      p256,
      k1,
      wallet,
      qx,
      qy,
      p256Id: p256SignerId(qx, qy),
      k1Id: secp256k1SignerId(wallet.address),
      statement,
    };
  }

  type Fixture = Awaited<ReturnType<typeof withSigners>>;

  /** Signs `s` with the fixture's secp256k1 key over the contract's own digest, whatever `s` holds. */
  async function signRawK1(f: Fixture, s: ServiceStatement): Promise<string> {
    const digest = await f.verifier.hashStatement(tupleOf(s) as never, f.k1Id);
    return f.wallet.signingKey.sign(digest).serialized;
  }

  async function expectAttests(f: Fixture, evidence: string, s: ServiceStatement) {
    const attestation = await f.verifier.verifyAttestation(evidence);
    expect(attestation.teeType).to.equal(BigInt(s.teeType));
    expect(attestation.measurement).to.equal(s.measurement);
    expect(attestation.enclaveKey).to.equal(s.enclaveKey);
    expect(attestation.binding).to.equal(s.binding);
    expect(attestation.tcbStatus).to.equal(BigInt(s.tcbStatus));
    expect(attestation.notAfter).to.equal(s.expiry);
  }

  describe("deployment", () => {
    it("names its kind, grants both roles to the admin and uses the Verity Attestation Service domain", async () => {
      const { admin, outsider, verifier, chainId } = await networkHelpers.loadFixture(deployed);
      const kind = keccak256(toUtf8Bytes("verity.verifier.attestation-service.v1"));
      expect(await verifier.verifierKind()).to.equal(kind);
      expect(await verifier.VERIFIER_KIND()).to.equal(kind);
      expect(ATTESTATION_SERVICE_VERIFIER_KIND).to.equal(kind);
      const governor = keccak256(toUtf8Bytes("verity.role.governor"));
      expect(await verifier.GOVERNOR_ROLE()).to.equal(governor);
      expect(await verifier.hasRole(governor, admin.address)).to.equal(true);
      expect(await verifier.hasRole(await verifier.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
      expect(await verifier.hasRole(governor, outsider.address)).to.equal(false);
      const d = await verifier.eip712Domain();
      expect([d.name, d.version, d.chainId, d.verifyingContract]).to.deep.equal([
        "Verity Attestation Service",
        "1",
        chainId,
        await verifier.getAddress(),
      ]);
    });

    it("is view: verification can never write", async () => {
      const { verifier } = await networkHelpers.loadFixture(deployed);
      const fragment = verifier.interface.getFunction("verifyAttestation");
      expect(fragment.stateMutability).to.equal("view");
    });

    it("gives the canonical measurement length of each TEE type and refuses None", async () => {
      const { verifier } = await networkHelpers.loadFixture(deployed);
      expect(await verifier.measurementLength(TeeType.IntelTdx)).to.equal(240n);
      expect(await verifier.measurementLength(TeeType.IntelSgx)).to.equal(64n);
      expect(await verifier.measurementLength(TeeType.AwsNitro)).to.equal(144n);
      await expect(verifier.measurementLength(TeeType.None))
        .to.be.revertedWithCustomError(verifier, "AttestationServiceVerifierUnsupportedTeeType")
        .withArgs(TeeType.None);
    });
  });

  describe("governance", () => {
    it("approves a P-256 key under keccak(kind, qx, qy)", async () => {
      const { verifier } = await networkHelpers.loadFixture(deployed);
      const { qx, qy } = p256PublicKeyOf(p256Key());
      const id = keccak256(coder.encode(["uint8", "bytes32", "bytes32"], [1, qx, qy]));
      expect(await verifier.p256SignerId(qx, qy)).to.equal(id);
      expect(p256SignerId(qx, qy)).to.equal(id);
      await expect(verifier.approveP256Signer(qx, qy)).to.emit(verifier, "P256SignerApproved").withArgs(id, qx, qy);
      expect([...(await verifier.signerOf(id))]).to.deep.equal([
        KeyKind.P256,
        SignerStatus.Approved,
        ZeroAddress,
        qx,
        qy,
      ]);
    });

    it("approves a secp256k1 key under keccak(kind, address)", async () => {
      const { verifier } = await networkHelpers.loadFixture(deployed);
      const account = Wallet.createRandom().address;
      const id = keccak256(coder.encode(["uint8", "address"], [2, account]));
      expect(await verifier.secp256k1SignerId(account)).to.equal(id);
      expect(secp256k1SignerId(account)).to.equal(id);
      await expect(verifier.approveSecp256k1Signer(account))
        .to.emit(verifier, "Secp256k1SignerApproved")
        .withArgs(id, account);
      expect([...(await verifier.signerOf(id))]).to.deep.equal([
        KeyKind.Secp256k1,
        SignerStatus.Approved,
        account,
        ethers.ZeroHash,
        ethers.ZeroHash,
      ]);
    });

    it("refuses approvals and revocations from outside GOVERNOR_ROLE, changing nothing", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      const role = await f.verifier.GOVERNOR_ROLE();
      const { qx, qy } = p256PublicKeyOf(p256Key());
      const account = Wallet.createRandom().address;
      const byOutsider = f.verifier.connect(f.outsider);
      await expect(byOutsider.approveP256Signer(qx, qy))
        .to.be.revertedWithCustomError(f.verifier, "AccessControlUnauthorizedAccount")
        .withArgs(f.outsider.address, role);
      await expect(byOutsider.approveSecp256k1Signer(account))
        .to.be.revertedWithCustomError(f.verifier, "AccessControlUnauthorizedAccount")
        .withArgs(f.outsider.address, role);
      await expect(byOutsider.revokeSigner(f.p256Id))
        .to.be.revertedWithCustomError(f.verifier, "AccessControlUnauthorizedAccount")
        .withArgs(f.outsider.address, role);
      expect((await f.verifier.signerOf(p256SignerId(qx, qy))).status).to.equal(SignerStatus.None);
      expect((await f.verifier.signerOf(secp256k1SignerId(account))).status).to.equal(SignerStatus.None);
      expect((await f.verifier.signerOf(f.p256Id)).status).to.equal(SignerStatus.Approved);
    });

    it("refuses P-256 keys that are not on the curve", async () => {
      const { verifier } = await networkHelpers.loadFixture(deployed);
      const { qx, qy } = p256PublicKeyOf(p256Key());
      const offCurve = toBeHex((BigInt(qy) + 1n) % (1n << 256n), 32);
      const fieldP = toBeHex(0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn, 32);
      for (const [x, y] of [
        [qx, offCurve],
        [ethers.ZeroHash, ethers.ZeroHash],
        [fieldP, qy],
      ]) {
        await expect(verifier.approveP256Signer(x, y))
          .to.be.revertedWithCustomError(verifier, "AttestationServiceVerifierInvalidP256Key")
          .withArgs(x, y);
        expect((await verifier.signerOf(p256SignerId(x, y))).status).to.equal(SignerStatus.None);
      }
    });

    it("refuses the zero address as a secp256k1 key", async () => {
      const { verifier } = await networkHelpers.loadFixture(deployed);
      await expect(verifier.approveSecp256k1Signer(ZeroAddress)).to.be.revertedWithCustomError(
        verifier,
        "AttestationServiceVerifierZeroAccount",
      );
      expect((await verifier.signerOf(secp256k1SignerId(Wallet.createRandom().address))).status).to.equal(0n);
    });

    it("refuses to approve a key twice, and to re-approve a revoked one", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      await expect(f.verifier.approveP256Signer(f.qx, f.qy))
        .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierSignerExists")
        .withArgs(f.p256Id, SignerStatus.Approved);
      await expect(f.verifier.approveSecp256k1Signer(f.wallet.address))
        .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierSignerExists")
        .withArgs(f.k1Id, SignerStatus.Approved);
      await f.verifier.revokeSigner(f.p256Id);
      await f.verifier.revokeSigner(f.k1Id);
      await expect(f.verifier.approveP256Signer(f.qx, f.qy))
        .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierSignerExists")
        .withArgs(f.p256Id, SignerStatus.Revoked);
      await expect(f.verifier.approveSecp256k1Signer(f.wallet.address))
        .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierSignerExists")
        .withArgs(f.k1Id, SignerStatus.Revoked);
      expect([...(await f.verifier.signerOf(f.p256Id))]).to.deep.equal([
        KeyKind.P256,
        SignerStatus.Revoked,
        ZeroAddress,
        f.qx,
        f.qy,
      ]);
      expect((await f.verifier.signerOf(f.k1Id)).status).to.equal(SignerStatus.Revoked);
    });

    it("revokes a key with an event; refuses unknown and already revoked keys", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      await expect(f.verifier.revokeSigner(f.p256Id)).to.emit(f.verifier, "SignerRevoked").withArgs(f.p256Id);
      expect((await f.verifier.signerOf(f.p256Id)).status).to.equal(SignerStatus.Revoked);
      expect((await f.verifier.signerOf(f.k1Id)).status).to.equal(SignerStatus.Approved);
      await expect(f.verifier.revokeSigner(f.p256Id))
        .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierRevokedSigner")
        .withArgs(f.p256Id);
      const unknown = keccak256(toUtf8Bytes("unknown"));
      await expect(f.verifier.revokeSigner(unknown))
        .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierUnknownSigner")
        .withArgs(unknown);
      expect((await f.verifier.signerOf(unknown)).status).to.equal(SignerStatus.None);
    });
  });

  describe("verifyAttestation", () => {
    it("accepts a statement the SDK signed with a P-256 key, through IAttestationVerifier", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      const signed = await signStatement(f.statement, f.p256, f.domain);
      expect(signed.signerId).to.equal(f.p256Id);
      expect(getBytes(signed.signature).length).to.equal(64);
      expect(await f.verifier.hashStatement(tupleOf(f.statement) as never, f.p256Id)).to.equal(signed.digest);
      const evidence = encodeEvidence(signed.statement, signed.signerId, signed.signature);
      await expectAttests(f, evidence, f.statement);
      const asInterface = await ethers.getContractAt("IAttestationVerifier", await f.verifier.getAddress());
      const attestation = await asInterface.verifyAttestation.staticCall(evidence);
      expect(attestation.enclaveKey).to.equal(f.statement.enclaveKey);
      expect(await asInterface.verifierKind()).to.equal(ATTESTATION_SERVICE_VERIFIER_KIND);
    });

    it("accepts a statement the SDK signed with an ethers Wallet (secp256k1), for every TEE type", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      for (const [teeType, length] of [
        [TeeType.IntelTdx, 240],
        [TeeType.IntelSgx, 64],
        [TeeType.AwsNitro, 144],
      ] as const) {
        const s = { ...f.statement, teeType, measurement: bytesOf(length, teeType), tcbStatus: TcbStatus.OutOfDate };
        const signed = await signStatement(s, f.k1, f.domain);
        expect(signed.signerId).to.equal(f.k1Id);
        await expectAttests(f, encodeEvidence(s, signed.signerId, signed.signature), s);
      }
    });

    it("passes any TcbStatus through to the registry, which judges it", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      for (const tcbStatus of [TcbStatus.Unrecognized, TcbStatus.Revoked]) {
        const s = { ...f.statement, tcbStatus };
        const signed = await signStatement(s, f.k1, f.domain);
        await expectAttests(f, encodeEvidence(s, signed.signerId, signed.signature), s);
      }
    });

    it("refuses a high-s P-256 signature that is otherwise valid ECDSA", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      const signed = await signStatement(f.statement, f.p256, f.domain);
      const high = highS64(signed.signature);
      // (r, n - s) verifies as plain ECDSA-SHA256: only the malleability rule refuses it.
      const publicKey = { key: f.p256.privateKey, dsaEncoding: "ieee-p1363" as const };
      expect(cryptoVerify("sha256", getBytes(signed.digest), publicKey, getBytes(high))).to.equal(true);
      await expect(f.verifier.verifyAttestation(encodeEvidence(f.statement, f.p256Id, high)))
        .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierBadSignature")
        .withArgs(f.p256Id, signed.digest);
    });

    it("verifies P-256 through the precompile where the chain has it and in Solidity where it has not", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      const signed = await signStatement(f.statement, f.p256, f.domain);
      const evidence = encodeEvidence(f.statement, f.p256Id, signed.signature);
      // EDR's default hardfork (Osaka) has the P256VERIFY precompile: a cheap call.
      expect(await f.verifier.verifyAttestation.estimateGas(evidence)).to.be.lessThan(100_000n);

      // Prague has none: OpenZeppelin's Solidity fallback (~280k gas) accepts the same signature and
      // still refuses its high-s twin.
      const prague = await network.create({ override: { hardfork: "prague" } });
      const [admin] = await prague.ethers.getSigners();
      const old = (await prague.ethers.deployContract("AttestationServiceVerifier", [
        admin.address,
      ])) as unknown as AttestationServiceVerifier;
      await old.approveP256Signer(f.qx, f.qy);
      const domain = { chainId: f.chainId, verifyingContract: await old.getAddress() };
      const onOld = await signStatement(f.statement, f.p256, domain);
      const oldEvidence = encodeEvidence(f.statement, f.p256Id, onOld.signature);
      expect((await old.verifyAttestation(oldEvidence)).enclaveKey).to.equal(f.statement.enclaveKey);
      expect(await old.verifyAttestation.estimateGas(oldEvidence)).to.be.greaterThan(150_000n);
      await expect(old.verifyAttestation(encodeEvidence(f.statement, f.p256Id, highS64(onOld.signature))))
        .to.be.revertedWithCustomError(old, "AttestationServiceVerifierBadSignature")
        .withArgs(f.p256Id, onOld.digest);
    });

    it("refuses a high-s secp256k1 signature that recovers to the signer", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      const signed = await signStatement(f.statement, f.k1, f.domain);
      const sig = Signature.from(signed.signature);
      const highS = toBeHex(SECP256K1_N - BigInt(sig.s), 32);
      const flippedV = sig.v === 27 ? 28 : 27;
      // (r, n - s) with the other parity is the same signature: the ecrecover precompile, which has no
      // low-s rule, recovers the signer from it. Only the malleability rule refuses it.
      const recovered = await ethers.provider.call({
        to: "0x0000000000000000000000000000000000000001",
        data: coder.encode(["bytes32", "uint8", "bytes32", "bytes32"], [signed.digest, flippedV, sig.r, highS]),
      });
      expect(coder.decode(["address"], recovered)[0]).to.equal(f.wallet.address);
      const high = hexlify(new Uint8Array([...getBytes(sig.r), ...getBytes(highS), flippedV]));
      await expect(f.verifier.verifyAttestation(encodeEvidence(f.statement, f.k1Id, high)))
        .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierBadSignature")
        .withArgs(f.k1Id, signed.digest);
    });

    it("refuses a statement signed for another chain", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      const digest = statementDigest(f.statement, f.p256Id, f.domain);
      for (const signer of [f.p256, f.k1]) {
        const other = await signStatement(f.statement, signer, { ...f.domain, chainId: f.chainId + 1n });
        expect(other.digest).to.not.equal(statementDigest(f.statement, other.signerId, f.domain));
        await expect(f.verifier.verifyAttestation(encodeEvidence(f.statement, other.signerId, other.signature)))
          .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierBadSignature")
          .withArgs(other.signerId, statementDigest(f.statement, other.signerId, f.domain));
      }
      expect(digest).to.equal(await f.verifier.hashStatement(tupleOf(f.statement) as never, f.p256Id));
    });

    it("refuses a statement signed for another verifier, which accepts it", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      const second = (await ethers.deployContract("AttestationServiceVerifier", [
        f.admin.address,
      ])) as unknown as AttestationServiceVerifier;
      await second.approveSecp256k1Signer(f.wallet.address);
      const forSecond = await signStatement(f.statement, f.k1, {
        chainId: f.chainId,
        verifyingContract: await second.getAddress(),
      });
      const evidence = encodeEvidence(f.statement, forSecond.signerId, forSecond.signature);
      expect((await second.verifyAttestation(evidence)).enclaveKey).to.equal(f.statement.enclaveKey);
      await expect(f.verifier.verifyAttestation(evidence))
        .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierBadSignature")
        .withArgs(f.k1Id, statementDigest(f.statement, f.k1Id, f.domain));
    });

    it("refuses a signature presented under another approved signer id", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      const other = Wallet.createRandom();
      await f.verifier.approveSecp256k1Signer(other.address);
      const otherId = secp256k1SignerId(other.address);
      const signed = await signStatement(f.statement, f.k1, f.domain);
      await expect(f.verifier.verifyAttestation(encodeEvidence(f.statement, otherId, signed.signature)))
        .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierBadSignature")
        .withArgs(otherId, statementDigest(f.statement, otherId, f.domain));
    });

    it("refuses a statement whose fields were changed after signing", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      const signed = await signStatement(f.statement, f.p256, f.domain);
      const changes: Partial<ServiceStatement>[] = [
        { measurement: bytesOf(240, 0xac) },
        { enclaveKey: Wallet.createRandom().address },
        { binding: ethers.ZeroHash },
        { tcbStatus: TcbStatus.OutOfDate },
        { expiry: f.statement.expiry + 1n },
      ];
      for (const change of changes) {
        const s = { ...f.statement, ...change };
        await expect(f.verifier.verifyAttestation(encodeEvidence(s, f.p256Id, signed.signature)))
          .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierBadSignature")
          .withArgs(f.p256Id, statementDigest(s, f.p256Id, f.domain));
      }
    });

    it("refuses signatures of the wrong length for the key kind", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      const p = await signStatement(f.statement, f.p256, f.domain);
      const k = await signStatement(f.statement, f.k1, f.domain);
      await expect(f.verifier.verifyAttestation(encodeEvidence(f.statement, f.p256Id, k.signature)))
        .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierBadSignatureLength")
        .withArgs(f.p256Id, 65, 64);
      await expect(f.verifier.verifyAttestation(encodeEvidence(f.statement, f.k1Id, p.signature)))
        .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierBadSignatureLength")
        .withArgs(f.k1Id, 64, 65);
      await expect(f.verifier.verifyAttestation(rawEvidence(f.statement, f.k1Id, "0x")))
        .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierBadSignatureLength")
        .withArgs(f.k1Id, 0, 65);
    });

    it("refuses a P-256 signature by another key", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      const stranger = await signStatement(f.statement, { kind: "p256", privateKey: p256Key() }, f.domain);
      await expect(f.verifier.verifyAttestation(encodeEvidence(f.statement, f.p256Id, stranger.signature)))
        .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierBadSignature")
        .withArgs(f.p256Id, statementDigest(f.statement, f.p256Id, f.domain));
    });

    it("refuses unknown signers", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      const stranger: StatementSigner = { kind: "p256", privateKey: p256Key() };
      const signed = await signStatement(f.statement, stranger, f.domain);
      await expect(f.verifier.verifyAttestation(encodeEvidence(f.statement, signed.signerId, signed.signature)))
        .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierUnknownSigner")
        .withArgs(signed.signerId);
    });

    it("refuses statements of a revoked signer that verified before", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      for (const [signer, id] of [
        [f.p256, f.p256Id],
        [f.k1, f.k1Id],
      ] as const) {
        const signed = await signStatement(f.statement, signer, f.domain);
        const evidence = encodeEvidence(f.statement, signed.signerId, signed.signature);
        await expectAttests(f, evidence, f.statement);
        await f.verifier.revokeSigner(id);
        await expect(f.verifier.verifyAttestation(evidence))
          .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierRevokedSigner")
          .withArgs(id);
      }
    });

    it("refuses an expired statement and accepts one that expires in a second", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      const at = BigInt(await networkHelpers.time.latest()) + 100n;
      // Calls run in a block after the latest one: pin its time.
      await networkHelpers.time.setNextBlockTimestamp(at);
      await networkHelpers.mine();
      const expired = { ...f.statement, expiry: at };
      const signed = await signStatement(expired, f.k1, f.domain);
      await expect(f.verifier.verifyAttestation(encodeEvidence(expired, signed.signerId, signed.signature)))
        .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierExpiredStatement")
        .withArgs(at, at);
      const fresh = { ...f.statement, expiry: at + 1n };
      const ok = await signStatement(fresh, f.k1, f.domain);
      await expectAttests(f, encodeEvidence(fresh, ok.signerId, ok.signature), fresh);
    });

    it("refuses measurements not in the TEE type's canonical length", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      for (const [teeType, length, expected] of [
        [TeeType.IntelTdx, 239, 240],
        [TeeType.IntelTdx, 0, 240],
        [TeeType.IntelSgx, 65, 64],
        [TeeType.AwsNitro, 240, 144],
      ] as const) {
        const s = { ...f.statement, teeType, measurement: bytesOf(length) };
        await expect(f.verifier.verifyAttestation(rawEvidence(s, f.k1Id, await signRawK1(f, s))))
          .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierBadMeasurementLength")
          .withArgs(teeType, length, expected);
      }
    });

    it("refuses TeeType None", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      const s = { ...f.statement, teeType: TeeType.None, measurement: "0x" };
      await expect(f.verifier.verifyAttestation(rawEvidence(s, f.k1Id, await signRawK1(f, s))))
        .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierUnsupportedTeeType")
        .withArgs(TeeType.None);
    });

    it("refuses a statement with no enclave key", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      const s = { ...f.statement, enclaveKey: ZeroAddress };
      await expect(
        f.verifier.verifyAttestation(rawEvidence(s, f.k1Id, await signRawK1(f, s))),
      ).to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierZeroEnclaveKey");
    });

    it("refuses evidence that does not decode", async () => {
      const f = await networkHelpers.loadFixture(withSigners);
      const signed = await signStatement(f.statement, f.k1, f.domain);
      const good = encodeEvidence(f.statement, signed.signerId, signed.signature);
      const goodBytes = getBytes(good);
      // Head: offset of the statement, signer id, offset of the signature; the statement's head starts at 0x60.
      const withWord = (word: number, value: bigint) => {
        const b = goodBytes.slice();
        b.set(getBytes(toBeHex(value, 32)), word * 32);
        return hexlify(b);
      };
      const cases = [
        "0x",
        bytesOf(100),
        hexlify(goodBytes.subarray(0, goodBytes.length - 32)), // truncated signature
        withWord(3, 4n), // teeType 4: no such TeeType
        withWord(7, 8n), // tcbStatus 8: no such TcbStatus
        withWord(5, 1n << 160n), // enclave key wider than an address
        withWord(8, 1n << 64n), // expiry wider than uint64
        withWord(0, 1n << 64n), // statement offset past the end
      ];
      for (const evidence of cases) {
        await expect(f.verifier.verifyAttestation(evidence))
          .to.be.revertedWithCustomError(f.verifier, "AttestationServiceVerifierMalformedEvidence")
          .withArgs(getBytes(evidence).length);
      }
      await expectAttests(f, good, f.statement);
    });
  });
});
