import { expect } from "chai";
import type { Interface } from "ethers";
import { network } from "hardhat";
import { DEFAULT_UNBONDING_DELAY } from "../../ignition/modules/core.js";
import { Bounds, deployCore, expectSolvent, plain, txTime, UINT96_MAX, ZERO_HASH, type Core } from "./coreFixtures.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const E = (n: string | number) => ethers.parseEther(String(n));

describe("StakeManager", () => {
  /** The deployment the running test loaded; the vault invariant is checked on it after every test. */
  let current: Core | undefined;
  async function load<T extends Core>(fixture: () => Promise<T>): Promise<T> {
    const core = await networkHelpers.loadFixture(fixture);
    current = core;
    return core;
  }
  afterEach(async () => {
    if (current !== undefined) await expectSolvent(current);
    current = undefined;
  });

  async function deployed() {
    return deployCore(connection);
  }

  /** The provider has 300 active; the treasury is its own signer so the split is visible. */
  async function staked() {
    const core = await deployCore(connection);
    await core.stakeManager.connect(core.admin).setTreasury(core.treasury.address);
    await core.stakeManager.connect(core.provider).deposit(E(300));
    return core;
  }

  async function stakeState(core: Core, who: string) {
    return plain([
      await core.stakeManager.stakeOf(who),
      await core.stakeManager.creditOf(who),
      await core.ledger.providerStakeOf(who),
      await core.token.balanceOf(who),
      await core.stakeManager.totalActive(),
      await core.stakeManager.totalUnbonding(),
      await core.stakeManager.totalBonds(),
      await core.stakeManager.totalCredits(),
      await core.token.balanceOf(await core.stakeManager.getAddress()),
    ]);
  }

  describe("deposit", () => {
    it("adds to the active stake, pulls the tokens, emits StakeDeposited and syncs the ledger", async () => {
      const core = await load(deployed);
      const { stakeManager, ledger, token, provider } = core;
      const tx = stakeManager.connect(provider).deposit(E(120));
      await expect(tx).to.emit(stakeManager, "StakeDeposited").withArgs(provider.address, E(120), E(120));
      await expect(tx).to.emit(ledger, "ProviderStakeSynced").withArgs(provider.address, E(120));
      await expect(tx).to.changeTokenBalances(ethers, token, [provider, stakeManager], [-E(120), E(120)]);
      await expect(stakeManager.connect(provider).deposit(E(30)))
        .to.emit(stakeManager, "StakeDeposited")
        .withArgs(provider.address, E(30), E(150));
      expect(plain(await stakeManager.stakeOf(provider.address))).to.deep.equal(plain([E(150), 0n, 0n, 0n]));
      expect(await stakeManager.totalActive()).to.equal(E(150));
      expect(await ledger.providerStakeOf(provider.address)).to.equal(E(150));
      await expectSolvent(core);
    });

    it("reverts with StakeManagerZeroAmount for a zero deposit and changes nothing", async () => {
      const core = await load(staked);
      const before = await stakeState(core, core.provider.address);
      await expect(core.stakeManager.connect(core.provider).deposit(0)).to.be.revertedWithCustomError(
        core.stakeManager,
        "StakeManagerZeroAmount",
      );
      expect(await stakeState(core, core.provider.address)).to.deep.equal(before);
      await expectSolvent(core);
    });

    it("reverts with StakeManagerAmountTooLarge when the active stake would not fit 96 bits", async () => {
      const core = await load(staked);
      const { stakeManager, token, provider } = core;
      await token.mint(provider.address, UINT96_MAX);
      const before = await stakeState(core, provider.address);
      const tooMuch = UINT96_MAX - E(300) + 1n;
      await expect(stakeManager.connect(provider).deposit(tooMuch))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerAmountTooLarge")
        .withArgs(tooMuch);
      expect(await stakeState(core, provider.address)).to.deep.equal(before);
      // Exactly the 96-bit maximum fits.
      await stakeManager.connect(provider).deposit(tooMuch - 1n);
      expect((await stakeManager.stakeOf(provider.address)).active).to.equal(UINT96_MAX);
      await expectSolvent(core);
    });

    it("reverts with StakeManagerAmountTooLarge (not a panic) for an amount near 2^256", async () => {
      const core = await load(staked);
      const before = await stakeState(core, core.provider.address);
      await expect(core.stakeManager.connect(core.provider).deposit(ethers.MaxUint256))
        .to.be.revertedWithCustomError(core.stakeManager, "StakeManagerAmountTooLarge")
        .withArgs(ethers.MaxUint256);
      expect(await stakeState(core, core.provider.address)).to.deep.equal(before);
    });
  });

  describe("requestUnbond", () => {
    it("moves stake to unbonding with readyAt = block timestamp + delay and syncs the ledger", async () => {
      const core = await load(staked);
      const { stakeManager, ledger, provider } = core;
      const at = (await networkHelpers.time.latest()) + 10;
      await networkHelpers.time.setNextBlockTimestamp(at);
      const tx = stakeManager.connect(provider).requestUnbond(E(100));
      await expect(tx)
        .to.emit(stakeManager, "UnbondingRequested")
        .withArgs(provider.address, E(100), E(100), at + DEFAULT_UNBONDING_DELAY);
      await expect(tx).to.emit(ledger, "ProviderStakeSynced").withArgs(provider.address, E(200));
      expect(plain(await stakeManager.stakeOf(provider.address))).to.deep.equal(
        plain([E(200), E(100), at + DEFAULT_UNBONDING_DELAY, 0n]),
      );
      expect(await stakeManager.totalActive()).to.equal(E(200));
      expect(await stakeManager.totalUnbonding()).to.equal(E(100));
      expect(await ledger.providerStakeOf(provider.address)).to.equal(E(200));
      await expectSolvent(core);
    });

    it("accumulates a second request and restarts the clock for all of it", async () => {
      const core = await load(staked);
      const { stakeManager, provider } = core;
      await stakeManager.connect(provider).requestUnbond(E(100));
      await networkHelpers.time.increase(1000);
      const at = (await networkHelpers.time.latest()) + 1;
      await networkHelpers.time.setNextBlockTimestamp(at);
      await expect(stakeManager.connect(provider).requestUnbond(E(50)))
        .to.emit(stakeManager, "UnbondingRequested")
        .withArgs(provider.address, E(50), E(150), at + DEFAULT_UNBONDING_DELAY);
      const s = await stakeManager.stakeOf(provider.address);
      expect(s.unbonding).to.equal(E(150));
      expect(s.unbondingReadyAt).to.equal(BigInt(at + DEFAULT_UNBONDING_DELAY));
      await expectSolvent(core);
    });

    it("reverts with StakeManagerInsufficientStake above the active stake and changes nothing", async () => {
      const core = await load(staked);
      const before = await stakeState(core, core.provider.address);
      await expect(core.stakeManager.connect(core.provider).requestUnbond(E(300) + 1n))
        .to.be.revertedWithCustomError(core.stakeManager, "StakeManagerInsufficientStake")
        .withArgs(E(300) + 1n, E(300));
      await expect(core.stakeManager.connect(core.outsider).requestUnbond(1n))
        .to.be.revertedWithCustomError(core.stakeManager, "StakeManagerInsufficientStake")
        .withArgs(1n, 0n);
      expect(await stakeState(core, core.provider.address)).to.deep.equal(before);
    });

    it("reverts with StakeManagerZeroAmount for a zero request", async () => {
      const core = await load(staked);
      const before = await stakeState(core, core.provider.address);
      await expect(core.stakeManager.connect(core.provider).requestUnbond(0)).to.be.revertedWithCustomError(
        core.stakeManager,
        "StakeManagerZeroAmount",
      );
      expect(await stakeState(core, core.provider.address)).to.deep.equal(before);
    });
  });

  describe("withdraw", () => {
    async function unbonding() {
      const core = await staked();
      const tx = await core.stakeManager.connect(core.provider).requestUnbond(E(100));
      return { ...core, readyAt: (await txTime(ethers, tx)) + DEFAULT_UNBONDING_DELAY };
    }

    it("reverts with StakeManagerStillUnbonding one second before readyAt", async () => {
      const core = await load(unbonding);
      await networkHelpers.time.setNextBlockTimestamp(core.readyAt - 1);
      const before = await stakeState(core, core.provider.address);
      await expect(core.stakeManager.connect(core.provider).withdraw())
        .to.be.revertedWithCustomError(core.stakeManager, "StakeManagerStillUnbonding")
        .withArgs(core.provider.address, core.readyAt);
      expect(await stakeState(core, core.provider.address)).to.deep.equal(before);
    });

    it("sends all the unbonding stake at readyAt exactly and clears it", async () => {
      const core = await load(unbonding);
      const { stakeManager, token, provider } = core;
      await networkHelpers.time.setNextBlockTimestamp(core.readyAt);
      const tx = stakeManager.connect(provider).withdraw();
      await expect(tx).to.emit(stakeManager, "StakeWithdrawn").withArgs(provider.address, E(100));
      await expect(tx).to.changeTokenBalances(ethers, token, [provider, stakeManager], [E(100), -E(100)]);
      expect(plain(await stakeManager.stakeOf(provider.address))).to.deep.equal(plain([E(200), 0n, 0n, 0n]));
      expect(await stakeManager.totalUnbonding()).to.equal(0n);
      expect(await stakeManager.totalActive()).to.equal(E(200));
      await expectSolvent(core);
    });

    it("returns the amount withdrawn", async () => {
      const { stakeManager, provider, readyAt } = await load(unbonding);
      await networkHelpers.time.increaseTo(readyAt);
      expect(await stakeManager.connect(provider).withdraw.staticCall()).to.equal(E(100));
    });

    it("reverts with StakeManagerNothingUnbonding when nothing is unbonding, and after a withdrawal", async () => {
      const core = await load(unbonding);
      const { stakeManager, provider2, provider, readyAt } = core;
      await expect(stakeManager.connect(provider2).withdraw())
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerNothingUnbonding")
        .withArgs(provider2.address);
      await networkHelpers.time.increaseTo(readyAt);
      await stakeManager.connect(provider).withdraw();
      const before = await stakeState(core, provider.address);
      await expect(stakeManager.connect(provider).withdraw())
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerNothingUnbonding")
        .withArgs(provider.address);
      expect(await stakeState(core, provider.address)).to.deep.equal(before);
    });

    it("reverts with StakeManagerOpenDisputes while a dispute is open, even after the delay", async () => {
      const core = await load(unbonding);
      const { stakeManager, disputer, provider, readyAt } = core;
      const { challenger } = core;
      await stakeManager.connect(disputer).openDisputeStake(provider.address, challenger.address, E(10));
      await stakeManager.connect(disputer).openDisputeStake(provider.address, challenger.address, E(10));
      await networkHelpers.time.increaseTo(readyAt + 30 * 24 * 3600);
      const before = await stakeState(core, provider.address);
      await expect(stakeManager.connect(provider).withdraw())
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerOpenDisputes")
        .withArgs(provider.address, 2);
      expect(await stakeState(core, provider.address)).to.deep.equal(before);
      await stakeManager.connect(disputer).unlockStake(provider.address);
      await expect(stakeManager.connect(provider).withdraw())
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerOpenDisputes")
        .withArgs(provider.address, 1);
      expect((await stakeManager.stakeOf(provider.address)).unbonding).to.equal(E(100));
      await stakeManager.connect(disputer).unlockStake(provider.address);
      await expect(stakeManager.connect(provider).withdraw())
        .to.emit(stakeManager, "StakeWithdrawn")
        .withArgs(provider.address, E(100));
      await expectSolvent(core);
    });
  });

  describe("openDisputeStake and unlockStake", () => {
    it("openDisputeStake locks the stake, takes the bond from the challenger and returns the current share", async () => {
      const core = await load(staked);
      const { stakeManager, token, admin, disputer, provider, challenger } = core;
      expect(
        await stakeManager.connect(disputer).openDisputeStake.staticCall(provider.address, challenger.address, E(10)),
      ).to.equal(5_000n);
      const tx = stakeManager.connect(disputer).openDisputeStake(provider.address, challenger.address, E(10));
      await expect(tx).to.emit(stakeManager, "StakeLocked").withArgs(provider.address, 1);
      await expect(tx).to.emit(stakeManager, "BondPosted").withArgs(challenger.address, E(10));
      await expect(tx).to.changeTokenBalances(ethers, token, [challenger, stakeManager], [-E(10), E(10)]);
      expect(await stakeManager.totalBonds()).to.equal(E(10));
      await expectSolvent(core);
      await stakeManager.connect(admin).setChallengerShareBps(2_000);
      expect(
        await stakeManager.connect(disputer).openDisputeStake.staticCall(provider.address, challenger.address, E(1)),
      ).to.equal(2_000n);
      await expect(stakeManager.connect(disputer).openDisputeStake(provider.address, challenger.address, E(5)))
        .to.emit(stakeManager, "StakeLocked")
        .withArgs(provider.address, 2);
      expect((await stakeManager.stakeOf(provider.address)).openDisputes).to.equal(2n);
      expect((await stakeManager.stakeOf(provider.address)).active).to.equal(E(300));
      expect(await stakeManager.totalBonds()).to.equal(E(15));
      await expectSolvent(core);
    });

    it("unlockStake counts open disputes down with StakeUnlocked", async () => {
      const { stakeManager, disputer, provider, challenger } = await load(staked);
      await stakeManager.connect(disputer).openDisputeStake(provider.address, challenger.address, E(1));
      await stakeManager.connect(disputer).openDisputeStake(provider.address, challenger.address, E(1));
      await expect(stakeManager.connect(disputer).unlockStake(provider.address))
        .to.emit(stakeManager, "StakeUnlocked")
        .withArgs(provider.address, 1);
      expect((await stakeManager.stakeOf(provider.address)).openDisputes).to.equal(1n);
      // Unlocking does not release the bond: the dispute contract does that.
      expect(await stakeManager.totalBonds()).to.equal(E(2));
    });

    it("openDisputeStake reverts with StakeManagerZeroAmount for a zero bond and locks nothing", async () => {
      const core = await load(staked);
      const before = [await stakeState(core, core.provider.address), await stakeState(core, core.challenger.address)];
      await expect(
        core.stakeManager.connect(core.disputer).openDisputeStake(core.provider.address, core.challenger.address, 0),
      ).to.be.revertedWithCustomError(core.stakeManager, "StakeManagerZeroAmount");
      expect([
        await stakeState(core, core.provider.address),
        await stakeState(core, core.challenger.address),
      ]).to.deep.equal(before);
    });

    it("openDisputeStake reverts when the challenger has not approved the bond, and locks nothing", async () => {
      const core = await load(staked);
      const { stakeManager, token, disputer, provider, outsider } = core;
      await token.connect(outsider).approve(await stakeManager.getAddress(), E(1));
      const before = await stakeState(core, provider.address);
      await expect(stakeManager.connect(disputer).openDisputeStake(provider.address, outsider.address, E(2)))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(await stakeManager.getAddress(), E(1), E(2));
      expect(await stakeState(core, provider.address)).to.deep.equal(before);
    });

    it("reverts with StakeManagerNoLockedDispute when unlocking with no dispute open", async () => {
      const core = await load(staked);
      const before = await stakeState(core, core.provider.address);
      await expect(core.stakeManager.connect(core.disputer).unlockStake(core.provider.address))
        .to.be.revertedWithCustomError(core.stakeManager, "StakeManagerNoLockedDispute")
        .withArgs(core.provider.address);
      expect(await stakeState(core, core.provider.address)).to.deep.equal(before);
    });

    it("still lets a locked provider deposit and request unbonding", async () => {
      const core = await load(staked);
      await core.stakeManager
        .connect(core.disputer)
        .openDisputeStake(core.provider.address, core.challenger.address, E(10));
      await core.stakeManager.connect(core.provider).deposit(E(1));
      const tx = await core.stakeManager.connect(core.provider).requestUnbond(E(301));
      const readyAt = (await txTime(ethers, tx)) + DEFAULT_UNBONDING_DELAY;
      expect(plain(await core.stakeManager.stakeOf(core.provider.address))).to.deep.equal(
        plain([0n, E(301), readyAt, 1n]),
      );
      await expectSolvent(core);
    });
  });

  describe("slash", () => {
    it("takes from the active stake first, holds the challengers' share and credits the rest to the treasury", async () => {
      // Before: the challenger's share was credited at once to one challenger named by the caller. Now it
      // stays held (totalBonds) for the dispute contract to split among every winning challenger.
      const core = await load(staked);
      const { stakeManager, ledger, disputer, provider, challenger, treasury } = core;
      await stakeManager.connect(provider).requestUnbond(E(100));
      expect(
        plain(await stakeManager.connect(disputer).slash.staticCall(provider.address, E(50), 2_500)),
      ).to.deep.equal(plain([E(50), E("12.5")]));
      const tx = stakeManager.connect(disputer).slash(provider.address, E(50), 2_500);
      await expect(tx).to.emit(stakeManager, "StakeSlashed").withArgs(provider.address, E(50), E("12.5"));
      await expect(tx).to.emit(stakeManager, "Credited").withArgs(treasury.address, E("37.5"));
      await expect(tx).to.emit(ledger, "ProviderStakeSynced").withArgs(provider.address, E(150));
      const s = await stakeManager.stakeOf(provider.address);
      expect(s.active).to.equal(E(150));
      expect(s.unbonding).to.equal(E(100));
      expect(await stakeManager.creditOf(challenger.address)).to.equal(0n);
      expect(await stakeManager.creditOf(treasury.address)).to.equal(E("37.5"));
      expect(await stakeManager.totalCredits()).to.equal(E("37.5"));
      expect(await stakeManager.totalBonds()).to.equal(E("12.5"));
      expect(await stakeManager.totalActive()).to.equal(E(150));
      expect(await ledger.providerStakeOf(provider.address)).to.equal(E(150));
      await expectSolvent(core);
    });

    it("takes the rest from the unbonding stake once the active stake is gone", async () => {
      const core = await load(staked);
      const { stakeManager, ledger, disputer, provider } = core;
      await stakeManager.connect(provider).requestUnbond(E(100));
      const tx = stakeManager.connect(disputer).slash(provider.address, E(250), 5_000);
      await expect(tx).to.emit(stakeManager, "StakeSlashed").withArgs(provider.address, E(250), E(125));
      await expect(tx).to.emit(ledger, "ProviderStakeSynced").withArgs(provider.address, 0n);
      const s = await stakeManager.stakeOf(provider.address);
      expect(s.active).to.equal(0n);
      expect(s.unbonding).to.equal(E(50));
      expect(await stakeManager.totalUnbonding()).to.equal(E(50));
      expect(await stakeManager.totalBonds()).to.equal(E(125));
      await expectSolvent(core);
    });

    it("slashes unbonding-only stake without touching the ledger's cache", async () => {
      const core = await load(staked);
      const { stakeManager, ledger, disputer, provider } = core;
      await stakeManager.connect(provider).requestUnbond(E(300));
      const tx = stakeManager.connect(disputer).slash(provider.address, E(40), 5_000);
      await expect(tx).to.emit(stakeManager, "StakeSlashed").withArgs(provider.address, E(40), E(20));
      await expect(tx).not.to.emit(ledger, "ProviderStakeSynced");
      expect((await stakeManager.stakeOf(provider.address)).unbonding).to.equal(E(260));
      expect(await ledger.providerStakeOf(provider.address)).to.equal(0n);
      await expectSolvent(core);
    });

    it("caps the slash at the available stake and returns what was taken and held", async () => {
      const core = await load(staked);
      const { stakeManager, disputer, provider, treasury } = core;
      await stakeManager.connect(provider).requestUnbond(E(100));
      expect(
        plain(await stakeManager.connect(disputer).slash.staticCall(provider.address, E(1000), 5_000)),
      ).to.deep.equal(plain([E(300), E(150)]));
      await expect(stakeManager.connect(disputer).slash(provider.address, E(1000), 5_000))
        .to.emit(stakeManager, "StakeSlashed")
        .withArgs(provider.address, E(300), E(150));
      expect(plain(await stakeManager.stakeOf(provider.address))).to.deep.equal(
        plain([0n, 0n, (await stakeManager.stakeOf(provider.address)).unbondingReadyAt, 0n]),
      );
      expect(await stakeManager.creditOf(treasury.address)).to.equal(E(150));
      expect(await stakeManager.totalBonds()).to.equal(E(150));
      expect(await stakeManager.totalActive()).to.equal(0n);
      expect(await stakeManager.totalUnbonding()).to.equal(0n);
      await expectSolvent(core);
    });

    it("returns (0, 0) and emits nothing when the provider has no stake", async () => {
      const core = await load(staked);
      const { stakeManager, disputer, provider2, treasury } = core;
      const before = await stakeState(core, treasury.address);
      expect(
        plain(await stakeManager.connect(disputer).slash.staticCall(provider2.address, E(10), 5_000)),
      ).to.deep.equal(plain([0n, 0n]));
      await expect(stakeManager.connect(disputer).slash(provider2.address, E(10), 5_000))
        .not.to.emit(stakeManager, "StakeSlashed")
        .and.not.to.emit(stakeManager, "Credited");
      expect(await stakeState(core, treasury.address)).to.deep.equal(before);
      await expectSolvent(core);
    });

    it("rounds the held share down and credits the remainder to the treasury", async () => {
      const core = await load(staked);
      const { stakeManager, disputer, provider, treasury } = core;
      await expect(stakeManager.connect(disputer).slash(provider.address, 101n, 3_333))
        .to.emit(stakeManager, "StakeSlashed")
        .withArgs(provider.address, 101n, 33n);
      expect(await stakeManager.totalBonds()).to.equal(33n);
      expect(await stakeManager.creditOf(treasury.address)).to.equal(68n);
      await expectSolvent(core);
    });

    it("holds 20% at 2,000 bps and 50% at 5,000 bps, the share bounds", async () => {
      const core = await load(staked);
      const { stakeManager, disputer, provider, treasury } = core;
      await expect(stakeManager.connect(disputer).slash(provider.address, E(10), 2_000))
        .to.emit(stakeManager, "StakeSlashed")
        .withArgs(provider.address, E(10), E(2));
      expect(await stakeManager.creditOf(treasury.address)).to.equal(E(8));
      await expect(stakeManager.connect(disputer).slash(provider.address, E(20), 5_000))
        .to.emit(stakeManager, "StakeSlashed")
        .withArgs(provider.address, E(20), E(10));
      expect(await stakeManager.creditOf(treasury.address)).to.equal(E(18));
      expect(await stakeManager.totalBonds()).to.equal(E(12));
      await expectSolvent(core);
    });

    it("uses the share passed in, not the current challengerShareBps", async () => {
      const core = await load(staked);
      const { stakeManager, admin, disputer, provider } = core;
      await stakeManager.connect(admin).setChallengerShareBps(2_000);
      await stakeManager.connect(disputer).slash(provider.address, E(10), 5_000);
      expect(await stakeManager.totalBonds()).to.equal(E(5));
    });

    for (const bps of [1_999, 5_001, 0, 10_000]) {
      it(`reverts with StakeManagerInvalidShare(${bps}, 2000, 5000) and changes nothing`, async () => {
        // Before: any share up to 10,000 bps; a provider running sybil challengers could recover a
        // share near 100% of its own slash. Now at least half of every slash leaves the provider for good.
        const core = await load(staked);
        const before = await stakeState(core, core.provider.address);
        await expect(core.stakeManager.connect(core.disputer).slash(core.provider.address, E(10), bps))
          .to.be.revertedWithCustomError(core.stakeManager, "StakeManagerInvalidShare")
          .withArgs(bps, Bounds.MIN_CHALLENGER_SHARE_BPS, Bounds.MAX_CHALLENGER_SHARE_BPS);
        expect(await stakeState(core, core.provider.address)).to.deep.equal(before);
      });
    }
  });

  describe("releaseBond", () => {
    it("releases a posted bond as a credit its owner claims", async () => {
      const core = await load(staked);
      const { stakeManager, token, disputer, challenger, provider } = core;
      await stakeManager.connect(disputer).openDisputeStake(provider.address, challenger.address, E(10));
      await stakeManager.connect(disputer).openDisputeStake(provider.address, provider.address, E(5));
      expect(await stakeManager.totalBonds()).to.equal(E(15));
      await expectSolvent(core);

      const release = stakeManager.connect(disputer).releaseBond(challenger.address, E(12));
      await expect(release).to.emit(stakeManager, "BondReleased").withArgs(challenger.address, E(12));
      await expect(release).to.emit(stakeManager, "Credited").withArgs(challenger.address, E(12));
      await expect(release).to.changeTokenBalances(ethers, token, [challenger, stakeManager], [0n, 0n]);
      expect(await stakeManager.totalBonds()).to.equal(E(3));
      expect(await stakeManager.creditOf(challenger.address)).to.equal(E(12));
      await expectSolvent(core);
      await expect(stakeManager.connect(challenger).claim()).to.changeTokenBalances(
        ethers,
        token,
        [challenger, stakeManager],
        [E(12), -E(12)],
      );
      await expectSolvent(core);
    });

    it("pays the held share of a slash to the challengers it is released to", async () => {
      const core = await load(staked);
      const { stakeManager, token, disputer, provider, challenger, outsider } = core;
      await stakeManager.connect(disputer).openDisputeStake(provider.address, challenger.address, E(10));
      const [, held] = await stakeManager.connect(disputer).slash.staticCall(provider.address, E(50), 5_000);
      await stakeManager.connect(disputer).slash(provider.address, E(50), 5_000);
      expect(held).to.equal(E(25));
      // The bond and the held share: one pool for the dispute contract.
      expect(await stakeManager.totalBonds()).to.equal(E(35));
      await stakeManager.connect(disputer).releaseBond(challenger.address, E(10) + E("12.5"));
      await stakeManager.connect(disputer).releaseBond(outsider.address, E("12.5"));
      expect(await stakeManager.totalBonds()).to.equal(0n);
      await expectSolvent(core);
      await expect(stakeManager.connect(challenger).claim()).to.changeTokenBalances(
        ethers,
        token,
        [challenger, stakeManager],
        [E("22.5"), -E("22.5")],
      );
      await expect(stakeManager.connect(outsider).claim()).to.changeTokenBalances(
        ethers,
        token,
        [outsider, stakeManager],
        [E("12.5"), -E("12.5")],
      );
      await expectSolvent(core);
    });

    it("reverts with StakeManagerInsufficientBonds when releasing more than is held", async () => {
      const core = await load(staked);
      const { stakeManager, disputer, provider, challenger } = core;
      await stakeManager.connect(disputer).openDisputeStake(provider.address, challenger.address, E(10));
      await stakeManager.connect(disputer).slash(provider.address, E(10), 2_000);
      const before = await stakeState(core, challenger.address);
      await expect(stakeManager.connect(disputer).releaseBond(challenger.address, E(12) + 1n))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerInsufficientBonds")
        .withArgs(E(12) + 1n, E(12));
      expect(await stakeState(core, challenger.address)).to.deep.equal(before);
      await expectSolvent(core);
    });

    it("reverts with StakeManagerZeroAddress when releasing a bond to the zero address", async () => {
      const core = await load(staked);
      await core.stakeManager
        .connect(core.disputer)
        .openDisputeStake(core.provider.address, core.challenger.address, E(10));
      await expect(
        core.stakeManager.connect(core.disputer).releaseBond(ethers.ZeroAddress, E(10)),
      ).to.be.revertedWithCustomError(core.stakeManager, "StakeManagerZeroAddress");
      expect(await core.stakeManager.totalBonds()).to.equal(E(10));
      await expectSolvent(core);
    });
  });

  describe("claim", () => {
    it("transfers the whole credit once; a second claim reverts with StakeManagerNoCredit", async () => {
      const core = await load(staked);
      const { stakeManager, token, disputer, provider, challenger, treasury } = core;
      await stakeManager.connect(disputer).slash(provider.address, E(80), 2_500);
      await stakeManager.connect(disputer).releaseBond(challenger.address, E(20));
      await expectSolvent(core);
      expect(await stakeManager.connect(challenger).claim.staticCall()).to.equal(E(20));
      const tx = stakeManager.connect(challenger).claim();
      await expect(tx).to.emit(stakeManager, "CreditClaimed").withArgs(challenger.address, E(20));
      await expect(tx).to.changeTokenBalances(ethers, token, [challenger, stakeManager], [E(20), -E(20)]);
      expect(await stakeManager.creditOf(challenger.address)).to.equal(0n);
      expect(await stakeManager.totalCredits()).to.equal(E(60));
      await expectSolvent(core);
      const before = await stakeState(core, challenger.address);
      await expect(stakeManager.connect(challenger).claim())
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerNoCredit")
        .withArgs(challenger.address);
      expect(await stakeState(core, challenger.address)).to.deep.equal(before);
      await expect(stakeManager.connect(treasury).claim()).to.changeTokenBalances(
        ethers,
        token,
        [treasury, stakeManager],
        [E(60), -E(60)],
      );
      expect(await stakeManager.totalCredits()).to.equal(0n);
      await expectSolvent(core);
    });

    it("reverts with StakeManagerNoCredit for an account never credited", async () => {
      const { stakeManager, outsider } = await load(staked);
      await expect(stakeManager.connect(outsider).claim())
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerNoCredit")
        .withArgs(outsider.address);
    });
  });

  describe("DISPUTE_ROLE", () => {
    it("is keccak256('verity.role.dispute') and gates openDisputeStake, unlockStake, slash and releaseBond", async () => {
      const core = await load(staked);
      const { stakeManager, outsider, provider, challenger, disputer } = core;
      const role = await stakeManager.DISPUTE_ROLE();
      expect(role).to.equal(ethers.id("verity.role.dispute"));
      await stakeManager.connect(disputer).openDisputeStake(provider.address, challenger.address, E(10));
      const before = await stakeState(core, provider.address);
      const calls = [
        stakeManager.connect(outsider).openDisputeStake(provider.address, outsider.address, E(1)),
        stakeManager.connect(outsider).unlockStake(provider.address),
        stakeManager.connect(outsider).slash(provider.address, E(1), 5_000),
        stakeManager.connect(outsider).releaseBond(outsider.address, E(10)),
      ];
      for (const call of calls) {
        await expect(call)
          .to.be.revertedWithCustomError(stakeManager, "AccessControlUnauthorizedAccount")
          .withArgs(outsider.address, role);
      }
      expect(await stakeState(core, provider.address)).to.deep.equal(before);
      expect(await stakeManager.creditOf(outsider.address)).to.equal(0n);
      await expectSolvent(core);
    });

    it("is not held by the admin unless granted", async () => {
      const { stakeManager, admin, provider } = await load(staked);
      const role = await stakeManager.DISPUTE_ROLE();
      expect(await stakeManager.hasRole(role, admin.address)).to.equal(false);
      await expect(stakeManager.connect(admin).slash(provider.address, E(1), 5_000))
        .to.be.revertedWithCustomError(stakeManager, "AccessControlUnauthorizedAccount")
        .withArgs(admin.address, role);
    });

    it("has no lockStake or postBond any more (only openDisputeStake moves a bond in)", async () => {
      const { stakeManager } = await load(staked);
      const abi: Interface = stakeManager.interface;
      expect(abi.getFunction("lockStake")).to.equal(null);
      expect(abi.getFunction("postBond")).to.equal(null);
    });
  });

  describe("governance setters", () => {
    it("setTreasury redirects future slashes and emits TreasuryUpdated", async () => {
      const core = await load(staked);
      const { stakeManager, admin, outsider, disputer, provider } = core;
      await expect(stakeManager.connect(admin).setTreasury(outsider.address))
        .to.emit(stakeManager, "TreasuryUpdated")
        .withArgs(outsider.address);
      expect(await stakeManager.treasury()).to.equal(outsider.address);
      await stakeManager.connect(disputer).slash(provider.address, E(10), 2_000);
      expect(await stakeManager.creditOf(outsider.address)).to.equal(E(8));
    });

    it("setChallengerShareBps accepts 2,000 and 5,000 bps and emits ChallengerShareUpdated", async () => {
      const { stakeManager, admin } = await load(staked);
      for (const bps of [2_000, 5_000, 3_000]) {
        await expect(stakeManager.connect(admin).setChallengerShareBps(bps))
          .to.emit(stakeManager, "ChallengerShareUpdated")
          .withArgs(bps);
        expect(await stakeManager.challengerShareBps()).to.equal(BigInt(bps));
      }
    });

    it("reverts with StakeManagerZeroAddress for a zero treasury and StakeManagerInvalidShare(bps, 2000, 5000) outside the bounds", async () => {
      const { stakeManager, admin, treasury } = await load(staked);
      await expect(stakeManager.connect(admin).setTreasury(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        stakeManager,
        "StakeManagerZeroAddress",
      );
      for (const bps of [1_999, 5_001]) {
        await expect(stakeManager.connect(admin).setChallengerShareBps(bps))
          .to.be.revertedWithCustomError(stakeManager, "StakeManagerInvalidShare")
          .withArgs(bps, 2_000, 5_000);
      }
      expect(await stakeManager.treasury()).to.equal(treasury.address);
      expect(await stakeManager.challengerShareBps()).to.equal(5_000n);
    });

    it("revert with AccessControlUnauthorizedAccount for anyone without DEFAULT_ADMIN_ROLE", async () => {
      const { stakeManager, disputer, treasury } = await load(staked);
      await expect(stakeManager.connect(disputer).setTreasury(disputer.address))
        .to.be.revertedWithCustomError(stakeManager, "AccessControlUnauthorizedAccount")
        .withArgs(disputer.address, ZERO_HASH);
      await expect(stakeManager.connect(disputer).setChallengerShareBps(3_000))
        .to.be.revertedWithCustomError(stakeManager, "AccessControlUnauthorizedAccount")
        .withArgs(disputer.address, ZERO_HASH);
      expect(await stakeManager.treasury()).to.equal(treasury.address);
      expect(await stakeManager.challengerShareBps()).to.equal(5_000n);
    });
  });

  describe("constructor", () => {
    async function args(core: Core) {
      return [
        await core.token.getAddress(),
        await core.ledger.getAddress(),
        core.admin.address,
        core.treasury.address,
        5_000,
        Bounds.MIN_UNBONDING_DELAY + 1,
      ] as const;
    }

    it("accepts an unbonding delay of 109 days + 1 s (one second above PolicyBounds.MIN_UNBONDING_DELAY) and sets every parameter", async () => {
      const core = await load(deployed);
      const a = await args(core);
      expect(Bounds.MIN_UNBONDING_DELAY).to.equal(109 * 24 * 3600);
      const sm = await ethers.deployContract("StakeManager", [...a]);
      expect(await sm.unbondingDelay()).to.equal(BigInt(109 * 24 * 3600 + 1));
      expect(await sm.token()).to.equal(a[0]);
      expect(await sm.ledger()).to.equal(a[1]);
      expect(await sm.hasRole(ZERO_HASH, core.admin.address)).to.equal(true);
      expect(await sm.treasury()).to.equal(core.treasury.address);
      expect(await sm.challengerShareBps()).to.equal(5_000n);
      expect(await sm.totalOwed()).to.equal(0n);
    });

    it("reverts with StakeManagerUnbondingDelayTooShort at exactly 109 days and below", async () => {
      const core = await load(deployed);
      const factory = await ethers.getContractFactory("StakeManager");
      const a = await args(core);
      for (const delay of [Bounds.MIN_UNBONDING_DELAY, Bounds.MIN_UNBONDING_DELAY - 1, 73 * 24 * 3600, 0]) {
        await expect(factory.deploy(a[0], a[1], a[2], a[3], a[4], delay))
          .to.be.revertedWithCustomError(factory, "StakeManagerUnbondingDelayTooShort")
          .withArgs(delay, 109 * 24 * 3600);
      }
    });

    it("reverts with StakeManagerZeroAddress for a zero token, ledger, admin or treasury", async () => {
      const core = await load(deployed);
      const factory = await ethers.getContractFactory("StakeManager");
      const a = await args(core);
      for (const i of [0, 1, 2, 3]) {
        const bad = [...a] as unknown as [string, string, string, string, number, number];
        bad[i] = ethers.ZeroAddress;
        await expect(factory.deploy(...bad)).to.be.revertedWithCustomError(factory, "StakeManagerZeroAddress");
      }
    });

    it("accepts a share of 2,000 and 5,000 bps and reverts with StakeManagerInvalidShare(bps, 2000, 5000) for 1,999 and 5,001", async () => {
      const core = await load(deployed);
      const factory = await ethers.getContractFactory("StakeManager");
      const a = await args(core);
      for (const bps of [2_000, 5_000]) {
        const sm = await factory.deploy(a[0], a[1], a[2], a[3], bps, a[5]);
        expect(await sm.challengerShareBps()).to.equal(BigInt(bps));
      }
      for (const bps of [1_999, 5_001]) {
        await expect(factory.deploy(a[0], a[1], a[2], a[3], bps, a[5]))
          .to.be.revertedWithCustomError(factory, "StakeManagerInvalidShare")
          .withArgs(bps, 2_000, 5_000);
      }
    });
  });

  describe("views", () => {
    it("report the token, the ledger, the deployed 110-day delay and the totals", async () => {
      const core = await load(staked);
      const { stakeManager, token, ledger, disputer, provider, challenger } = core;
      expect(await stakeManager.token()).to.equal(await token.getAddress());
      expect(await stakeManager.ledger()).to.equal(await ledger.getAddress());
      expect(DEFAULT_UNBONDING_DELAY).to.equal(110 * 24 * 3600);
      expect(await stakeManager.unbondingDelay()).to.equal(BigInt(DEFAULT_UNBONDING_DELAY));
      await stakeManager.connect(disputer).openDisputeStake(provider.address, challenger.address, E(7));
      expect(await stakeManager.totalOwed()).to.equal(E(307));
      await stakeManager.connect(disputer).slash(provider.address, E(10), 5_000);
      // A slash moves value between totals; it never changes what is owed.
      expect(await stakeManager.totalOwed()).to.equal(E(307));
      expect(plain(await stakeManager.stakeOf(challenger.address))).to.deep.equal(plain([0n, 0n, 0n, 0n]));
      await expectSolvent(core);
    });
  });
});
