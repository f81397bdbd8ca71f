import type { NetworkConnection } from "hardhat/types/network";
import VerityLocal from "../../ignition/modules/VerityLocal.js";
import type {
  AttestationServiceVerifier,
  BatchDisclosure,
  DisputeGame,
  EnvironmentRegistry,
  InferenceLedger,
  InferenceOracle,
  MockERC20,
  ModelRegistry,
  StakeManager,
} from "../../typechain-types/index.js";

export const HOUR = 3600;
export const DAY = 24 * HOUR;
export const ENGINE_ID_V1 = "0x" + "00".repeat(31) + "01"; // stand-in engine id for core tests

/** A valid policy: 1 h windows, 100 VST minimum stake, 50 VST slash, 10 VST challenger bond (20% of 50), no TEE, no proofs. */
export function defaultPolicy(ethers: NetworkConnection["ethers"]) {
  return {
    challengeWindow: HOUR,
    responseWindow: HOUR,
    minStake: ethers.parseEther("100"),
    slashAmount: ethers.parseEther("50"),
    challengerBond: ethers.parseEther("10"),
    teeMode: 0,
    teeWindow: 0,
    proofAccepted: false,
  };
}

/**
 * Deploys the whole protocol with the Ignition module the real deployments use, then gives every signer
 * 1,000,000 test tokens and an unlimited approval to the stake manager (not to the oracle: its tests approve).
 */
export async function deployVerity(connection: NetworkConnection) {
  const { ethers, ignition } = connection;
  const deployed = await ignition.deploy(VerityLocal);
  const token = (await ethers.getContractAt("MockERC20", await deployed.token.getAddress())) as unknown as MockERC20;
  const ledger = (await ethers.getContractAt(
    "InferenceLedger",
    await deployed.ledger.getAddress(),
  )) as unknown as InferenceLedger;
  const registry = (await ethers.getContractAt(
    "ModelRegistry",
    await deployed.registry.getAddress(),
  )) as unknown as ModelRegistry;
  const stakeManager = (await ethers.getContractAt(
    "StakeManager",
    await deployed.stakeManager.getAddress(),
  )) as unknown as StakeManager;
  const disputeGame = (await ethers.getContractAt(
    "DisputeGame",
    await deployed.disputeGame.getAddress(),
  )) as unknown as DisputeGame;
  const batchDisclosure = (await ethers.getContractAt(
    "BatchDisclosure",
    await deployed.batchDisclosure.getAddress(),
  )) as unknown as BatchDisclosure;
  const environmentRegistry = (await ethers.getContractAt(
    "EnvironmentRegistry",
    await deployed.environmentRegistry.getAddress(),
  )) as unknown as EnvironmentRegistry;
  const attestationService = (await ethers.getContractAt(
    "AttestationServiceVerifier",
    await deployed.attestationService.getAddress(),
  )) as unknown as AttestationServiceVerifier;
  const oracle = (await ethers.getContractAt(
    "InferenceOracle",
    await deployed.oracle.getAddress(),
  )) as unknown as InferenceOracle;
  const signers = await ethers.getSigners();
  for (const signer of signers.slice(0, 8)) {
    await token.mint(signer.address, ethers.parseEther("1000000"));
    await token.connect(signer).approve(await stakeManager.getAddress(), ethers.MaxUint256);
  }
  return {
    token,
    ledger,
    registry,
    stakeManager,
    disputeGame,
    batchDisclosure,
    environmentRegistry,
    attestationService,
    oracle,
    signers,
  };
}

/** Random non-zero 32-byte value. */
export function randomHash(ethers: NetworkConnection["ethers"]): string {
  return ethers.hexlify(ethers.randomBytes(32));
}
