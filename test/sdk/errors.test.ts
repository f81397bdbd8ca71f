import { expect } from "chai";
import { Interface } from "ethers";
import {
  ARG_UNITS,
  VerityRevertError,
  decodeRevertData,
  formatSpan,
  formatTokenAmount,
  formatWhen,
  meaningOf,
  revertArgsJson,
  toVerityError,
} from "../../src/sdk/errors.js";
import {
  BatchDisclosure__factory,
  InferenceOracle__factory,
  DisputeGame__factory,
  EnvironmentRegistry__factory,
  AttestationServiceVerifier__factory,
  InferenceLedger__factory,
  MockERC20__factory,
  ModelRegistry__factory,
  StakeManager__factory,
} from "../../typechain-types/index.js";

/** Unit tests of revert meanings in user units (token decimals and symbol, dates relative to now) and their JSON. */

const VRT = { decimals: 18, symbol: "VRT" };
const USDC = { decimals: 6, symbol: "USDC" };
const PROVIDER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const E18 = 10n ** 18n;
const DAY = 86_400;
/** 2027-02-12T12:17:01Z, the readyAt of the example. */
const READY_AT = 1_802_434_621;

const CONTRACTS = {
  StakeManager: StakeManager__factory.abi,
  ModelRegistry: ModelRegistry__factory.abi,
  InferenceLedger: InferenceLedger__factory.abi,
  DisputeGame: DisputeGame__factory.abi,
  BatchDisclosure: BatchDisclosure__factory.abi,
  MockERC20: MockERC20__factory.abi,
  InferenceOracle: InferenceOracle__factory.abi,
};

type AbiError = { type: string; name?: string; inputs?: readonly { name: string; type: string }[] };
const errorsOf = (abi: readonly AbiError[]) => abi.filter((e) => e.type === "error");

describe("revert meanings in user units", () => {
  describe("formatting", () => {
    it("reads a time as a UTC date with how far it is from now; to the second within a day", () => {
      expect(formatWhen(READY_AT, READY_AT - 71 * DAY - 3_600)).to.equal("2027-02-12 12:17 UTC, in 71 days");
      expect(formatWhen(READY_AT, READY_AT + 12)).to.equal("2027-02-12 12:17:01 UTC, 12 seconds ago");
      expect(formatWhen(READY_AT, READY_AT - 90_000, true)).to.equal("2027-02-12 12:17 UTC (in 1 day 1 hour)");
      expect(formatWhen(READY_AT, READY_AT)).to.equal("2027-02-12 12:17:01 UTC, now");
      // Without a time now (the SDK's own messages), the ISO date as before; 0 is "never".
      expect(formatWhen(READY_AT)).to.equal("2027-02-12T12:17:01Z");
      expect(formatWhen(0, READY_AT)).to.equal("never");
    });

    it("words spans in one rounded unit from 10 of it on, else in two", () => {
      expect(formatSpan(110 * DAY - 5)).to.equal("110 days");
      expect(formatSpan(9 * DAY + 23 * 3_600 + 59)).to.equal("9 days 23 hours");
      expect(formatSpan(DAY)).to.equal("1 day");
      expect(formatSpan(5 * 60 + 3)).to.equal("5 minutes 3 seconds");
      expect(formatSpan(1)).to.equal("1 second");
      expect(formatSpan(0)).to.equal("0 seconds");
    });

    it("reads amounts with the token's decimals and symbol", () => {
      expect(formatTokenAmount(50n * E18, VRT)).to.equal("50 VRT");
      expect(formatTokenAmount(E18 / 2n, VRT)).to.equal("0.5 VRT");
      expect(formatTokenAmount(1_500_000n, USDC)).to.equal("1.5 USDC");
      expect(formatTokenAmount(7n, { decimals: 0, symbol: "" })).to.equal("7");
    });
  });

  describe("meanings", () => {
    it("StakeManagerStillUnbonding: unbonding until a date, in so many days (the issue's example)", () => {
      const now = READY_AT - 71 * DAY - 600;
      const error = new VerityRevertError("StakeManagerStillUnbonding", [PROVIDER, BigInt(READY_AT)], "0x");
      expect(error.explain({ token: VRT, now })).to.equal(
        `StakeManagerStillUnbonding(${PROVIDER}, ${READY_AT}): the stake is unbonding until 2027-02-12 12:17 UTC, in 71 days`,
      );
      // The SDK's message has no time now: the date alone.
      expect(error.message).to.equal(
        `StakeManagerStillUnbonding(${PROVIDER}, ${READY_AT}): the stake is unbonding until 2027-02-12T12:17:01Z`,
      );
    });

    it("ERC20InsufficientBalance and InferenceLedgerInsufficientStake read amounts in token units", () => {
      const balance = new VerityRevertError("ERC20InsufficientBalance", [PROVIDER, 20n * E18, 50n * E18], "0x");
      expect(balance.explain({ token: VRT })).to.equal(
        `ERC20InsufficientBalance(${PROVIDER}, 20000000000000000000, 50000000000000000000): ${PROVIDER} holds 20 VRT, 50 VRT needed`,
      );
      expect(meaningOf("ERC20InsufficientBalance", [PROVIDER, 2_500_000n, 10_000_000n], { token: USDC })).to.equal(
        `${PROVIDER} holds 2.5 USDC, 10 USDC needed`,
      );
      expect(meaningOf("InferenceLedgerInsufficientStake", [PROVIDER, 40n * E18, 100n * E18], { token: VRT })).to.equal(
        `${PROVIDER} has 40 VRT of active stake, the model requires 100 VRT: deposit at least 60 VRT more`,
      );
      expect(meaningOf("ERC20InsufficientAllowance", [PROVIDER, 0n, E18], { token: VRT })).to.equal(
        `${PROVIDER} may spend 0 VRT of the owner's tokens, 1 VRT needed: approve more`,
      );
    });

    it("leaves amounts out without token units, so the SDK's messages stay exact", () => {
      const error = new VerityRevertError("InferenceLedgerInsufficientStake", [PROVIDER, 0n, 100n * E18], "0x");
      expect(error.meaning).to.equal(undefined);
      expect(error.message).to.equal(`InferenceLedgerInsufficientStake(${PROVIDER}, 0, 100000000000000000000)`);
      expect(meaningOf("ERC20InsufficientBalance", [PROVIDER, 1n, 2n])).to.equal(undefined);
    });

    it("reads deadlines relative to now and windows as durations", () => {
      const now = READY_AT + 30;
      expect(meaningOf("DisputeGameDeadlinePassed", ["0x01", BigInt(READY_AT)], { now })).to.equal(
        "the move's deadline passed at 2027-02-12 12:17:01 UTC, 30 seconds ago: the game can only be ended by timeout",
      );
      expect(
        meaningOf("BatchDisclosureDeadlineNotPassed", ["0x01", BigInt(READY_AT)], { now: READY_AT - 7_200 }),
      ).to.equal("no timeout before the disclosure deadline, 2027-02-12 12:17:01 UTC, in 2 hours");
      expect(meaningOf("InferenceLedgerSealExpired", [BigInt(READY_AT)], { now })).to.equal(
        "the seal's deadline 2027-02-12 12:17:01 UTC (30 seconds ago) has passed",
      );
      expect(meaningOf("ModelRegistryInvalidChallengeWindow", [30n, 60n, 2_592_000n])).to.equal(
        "a challenge window of 30 s is outside 1 min..30 d",
      );
      expect(meaningOf("StakeManagerInvalidShare", [6_000n, 2_000n, 5_000n])).to.equal(
        "a challenger share of 60% is outside 20%..50%",
      );
    });

    it("gives every amount or time error of the five contracts and the ERC-20 a meaning in user units", () => {
      const now = READY_AT - DAY;
      const missing: string[] = [];
      for (const [contract, abi] of Object.entries(CONTRACTS)) {
        for (const e of errorsOf(abi as readonly AbiError[])) {
          if (ARG_UNITS[e.name!] === undefined) continue;
          const args: unknown[] = e.inputs!.map((i) =>
            i.type === "address" ? PROVIDER : i.type.startsWith("bytes") ? "0x01" : 7n,
          );
          const units = Object.keys(ARG_UNITS[e.name!]);
          for (const [i, input] of e.inputs!.entries()) {
            if (units.includes(input.name) && ARG_UNITS[e.name!][input.name] === "time") args[i] = BigInt(READY_AT);
          }
          if (meaningOf(e.name!, args, { token: VRT, now }) === undefined) missing.push(`${contract}.${e.name}`);
        }
      }
      expect(missing).to.deep.equal([]);
    });

    it("lists every integer argument that is an amount, a time or a duration (and only real parameters)", () => {
      // Integer parameters that are neither: counts, indices, lengths, gas, enums, basis points.
      const NOT_UNITS =
        /^(length|expected|actual|count|max|layer|numLayers|selected|neuron|outDim|index|disclosed|given|gas|bps|min|mode|current|openDisputes|pending|inputDim|maxURI|value|bits|status|teeType|inDim|previousOutDim|multiplier|shift|inputLength|rowLength|mask|accepts|finality|callbackGasLimit|available|required)$/;
      const unlisted: string[] = [];
      const all: Record<string, readonly { name: string; type: string }[]> = {};
      for (const abi of [
        ...Object.values(CONTRACTS),
        EnvironmentRegistry__factory.abi,
        AttestationServiceVerifier__factory.abi,
      ]) {
        for (const e of errorsOf(abi as readonly AbiError[])) {
          all[e.name!] = e.inputs!;
          for (const input of e.inputs!) {
            if (!/int/.test(input.type) || ARG_UNITS[e.name!]?.[input.name] !== undefined) continue;
            // `value` and `min`/`max` are units in some errors (windows, stakes): those must be listed.
            const listedSibling = ARG_UNITS[e.name!] !== undefined;
            if (!NOT_UNITS.test(input.name) || (listedSibling && /^(value|min|max)$/.test(input.name))) {
              unlisted.push(`${e.name}.${input.name}`);
            }
          }
        }
      }
      expect(unlisted).to.deep.equal([]);
      for (const [name, params] of Object.entries(ARG_UNITS)) {
        expect(all[name], name).to.not.equal(undefined);
        for (const param of Object.keys(params)) {
          expect(
            all[name].map((i) => i.name),
            `${name}.${param}`,
          ).to.include(param);
        }
      }
    });
  });

  describe("JSON", () => {
    const iface = new Interface(StakeManager__factory.abi);
    const decode = (name: string, args: unknown[]) => {
      const error = toVerityError({ data: iface.encodeErrorResult(name, args) });
      expect(error).to.be.instanceOf(VerityRevertError);
      return error as VerityRevertError;
    };

    it("keys arguments by name; times are numbers, amounts and wide integers decimal strings", () => {
      const unbonding = decode("StakeManagerStillUnbonding", [PROVIDER, READY_AT]);
      expect(unbonding.toJSON({ token: VRT, now: READY_AT - 71 * DAY })).to.deep.equal({
        name: "StakeManagerStillUnbonding",
        message: `StakeManagerStillUnbonding(${PROVIDER}, ${READY_AT}): the stake is unbonding until 2027-02-12 12:17 UTC, in 71 days`,
        meaning: "the stake is unbonding until 2027-02-12 12:17 UTC, in 71 days",
        args: { provider: PROVIDER, readyAt: READY_AT },
        data: unbonding.data,
      });
      expect(decode("StakeManagerInsufficientStake", [5n * E18, E18]).toJSON().args).to.deep.equal({
        requested: "5000000000000000000",
        active: "1000000000000000000",
      });
      expect(decode("StakeManagerOpenDisputes", [PROVIDER, 2]).toJSON().args).to.deep.equal({
        provider: PROVIDER,
        openDisputes: 2,
      });
      expect(decode("StakeManagerUnbondingDelayTooShort", [10n, 100n]).toJSON().args).to.deep.equal({
        delay: 10,
        min: 100,
      });
      // A uint256 that is no unit is a string whatever its value (one type per field).
      expect(revertArgsJson("ModelRegistryUnknownLayer", ["0x01", 3n])).to.deep.equal({ modelId: "0x01", layer: "3" });
      // A hand-built error of an unknown name: by position, bigints as strings.
      expect(revertArgsJson("Unknown", [1n, "x"])).to.deep.equal({ 0: "1", 1: "x" });
    });

    it("decodes the ERC-20's errors with their parameter names", () => {
      const data = new Interface(MockERC20__factory.abi).encodeErrorResult("ERC20InsufficientBalance", [
        PROVIDER,
        20n * E18,
        50n * E18,
      ]);
      expect(decodeRevertData(data)?.name).to.equal("ERC20InsufficientBalance");
      const json = (toVerityError({ data }) as VerityRevertError).toJSON({ token: VRT });
      expect(json.args).to.deep.equal({
        sender: PROVIDER,
        balance: "20000000000000000000",
        needed: "50000000000000000000",
      });
      expect(json.meaning).to.equal(`${PROVIDER} holds 20 VRT, 50 VRT needed`);
    });
  });
});
