// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IInferenceLedger} from "../interfaces/IInferenceLedger.sol";
import {IStakeManager} from "../interfaces/IStakeManager.sol";
import {PolicyBounds} from "../libraries/PolicyBounds.sol";

/// @title StakeManager
/// @notice The protocol's vault: provider stakes, dispute bonds and credits in one ERC-20.
/// @dev Supports plain ERC-20 tokens; fee-on-transfer and rebasing tokens break the accounting and are
/// not supported. Every change of a provider's active stake is mirrored into the ledger's admission
/// cache in the same transaction.
contract StakeManager is IStakeManager, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Dispute contracts: lock, slash, and hold bonds.
    bytes32 public constant DISPUTE_ROLE = keccak256("verity.role.dispute");
    /// @notice Oracles: release the compensation held for their requesters.
    bytes32 public constant ORACLE_ROLE = keccak256("verity.role.oracle");

    /// @inheritdoc IStakeManager
    IERC20 public immutable token;
    /// @notice The ledger whose admission cache this contract writes.
    IInferenceLedger public immutable ledger;
    /// @inheritdoc IStakeManager
    uint256 public immutable unbondingDelay;

    /// @inheritdoc IStakeManager
    address public treasury;
    /// @inheritdoc IStakeManager
    uint16 public challengerShareBps;
    /// @inheritdoc IStakeManager
    uint16 public harmedShareBps;
    /// @inheritdoc IStakeManager
    uint256 public totalCompensations;

    /// @dev The four totals in two slots. Bonds share a slot with active stakes, which are non-zero
    /// whenever a dispute can open, so posting the first bond rewrites a live slot instead of a fresh one.
    /// 128 bits each: far above any token's supply.
    struct Totals {
        uint128 active;
        uint128 bonds;
        uint128 unbonding;
        uint128 credits;
    }

    Totals private _totals;

    mapping(address provider => Stake) private _stakes;
    mapping(address account => uint256) private _credits;
    mapping(bytes32 target => uint256) private _compensations;

    /// @param token_ The staking token.
    /// @param ledger_ The inference ledger; it must bind this contract with `bindSources`.
    /// @param admin Receives DEFAULT_ADMIN_ROLE (use a timelock in production).
    /// @param treasury_ Credited with the non-challenger part of slashes.
    /// @param challengerShareBps_ The challenger's share of slashes, in basis points (20% to 50%).
    /// @param unbondingDelay_ Must exceed the latest a commitment can be disputed plus the longest dispute.
    constructor(
        IERC20 token_,
        IInferenceLedger ledger_,
        address admin,
        address treasury_,
        uint16 challengerShareBps_,
        uint256 unbondingDelay_
    ) {
        if (address(token_) == address(0) || address(ledger_) == address(0) || admin == address(0)) {
            revert StakeManagerZeroAddress();
        }
        // INVARIANT: stake cannot leave before every commitment it backed can still be punished.
        if (unbondingDelay_ <= PolicyBounds.MIN_UNBONDING_DELAY) {
            revert StakeManagerUnbondingDelayTooShort(unbondingDelay_, PolicyBounds.MIN_UNBONDING_DELAY);
        }
        token = token_;
        ledger = ledger_;
        unbondingDelay = unbondingDelay_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setTreasury(treasury_);
        _setChallengerShareBps(challengerShareBps_);
        harmedShareBps = PolicyBounds.DEFAULT_HARMED_SHARE_BPS;
        emit HarmedShareUpdated(PolicyBounds.DEFAULT_HARMED_SHARE_BPS);
    }

    // ------------------------------------------------------------------ providers

    /// @inheritdoc IStakeManager
    function deposit(uint256 amount) external nonReentrant {
        if (amount == 0) revert StakeManagerZeroAmount();
        Stake storage stake = _stakes[msg.sender];
        if (amount > type(uint96).max - stake.active) revert StakeManagerAmountTooLarge(amount);
        uint256 active = stake.active + amount;
        stake.active = uint96(active);
        _totals.active += uint128(amount);
        emit StakeDeposited(msg.sender, amount, active);
        ledger.syncProviderStake(msg.sender, uint96(active));
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IStakeManager
    function requestUnbond(uint256 amount) external {
        if (amount == 0) revert StakeManagerZeroAmount();
        Stake storage stake = _stakes[msg.sender];
        uint256 active = stake.active;
        if (amount > active) revert StakeManagerInsufficientStake(amount, active);
        if (amount > type(uint96).max - stake.unbonding) revert StakeManagerAmountTooLarge(amount);
        uint40 readyAt = (block.timestamp + unbondingDelay).toUint40();
        stake.active = uint96(active - amount);
        stake.unbonding += uint96(amount);
        stake.unbondingReadyAt = readyAt;
        _totals.active -= uint128(amount);
        _totals.unbonding += uint128(amount);
        emit UnbondingRequested(msg.sender, amount, stake.unbonding, readyAt);
        ledger.syncProviderStake(msg.sender, uint96(active - amount));
    }

    /// @inheritdoc IStakeManager
    function withdraw() external nonReentrant returns (uint256 amount) {
        Stake storage stake = _stakes[msg.sender];
        amount = stake.unbonding;
        if (amount == 0) revert StakeManagerNothingUnbonding(msg.sender);
        if (block.timestamp < stake.unbondingReadyAt) {
            revert StakeManagerStillUnbonding(msg.sender, stake.unbondingReadyAt);
        }
        // INVARIANT: no stake leaves while a dispute that could slash it is unresolved.
        if (stake.openDisputes != 0) revert StakeManagerOpenDisputes(msg.sender, stake.openDisputes);
        stake.unbonding = 0;
        stake.unbondingReadyAt = 0;
        _totals.unbonding -= uint128(amount);
        emit StakeWithdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IStakeManager
    function claim() external nonReentrant returns (uint256 amount) {
        amount = _credits[msg.sender];
        if (amount == 0) revert StakeManagerNoCredit(msg.sender);
        _credits[msg.sender] = 0;
        _totals.credits -= uint128(amount);
        emit CreditClaimed(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ disputes

    /// @inheritdoc IStakeManager
    function openDisputeStake(
        address provider,
        address challenger,
        uint256 bond
    ) external onlyRole(DISPUTE_ROLE) nonReentrant returns (uint16) {
        _lock(provider);
        _postBond(challenger, bond);
        return challengerShareBps;
    }

    /// @inheritdoc IStakeManager
    function unlockStake(address provider) external onlyRole(DISPUTE_ROLE) {
        Stake storage stake = _stakes[provider];
        uint24 open = stake.openDisputes;
        if (open == 0) revert StakeManagerNoLockedDispute(provider);
        stake.openDisputes = open - 1;
        emit StakeUnlocked(provider, open - 1);
    }

    /// @inheritdoc IStakeManager
    function slash(
        address provider,
        uint256 amount,
        uint16 challengerShareBps_
    ) external onlyRole(DISPUTE_ROLE) returns (uint256 slashed, uint256 held) {
        (slashed, held, ) = _slash(provider, amount, challengerShareBps_, bytes32(0));
    }

    /// @inheritdoc IStakeManager
    function slashCompensating(
        address provider,
        uint256 amount,
        uint16 challengerShareBps_,
        bytes32 target
    ) external onlyRole(DISPUTE_ROLE) returns (uint256 slashed, uint256 held, uint256 compensation) {
        return _slash(provider, amount, challengerShareBps_, target);
    }

    /// @inheritdoc IStakeManager
    function releaseCompensation(bytes32 target, address to) external onlyRole(ORACLE_ROLE) returns (uint256 amount) {
        amount = _compensations[target];
        if (amount == 0) return 0;
        delete _compensations[target];
        totalCompensations -= amount;
        emit CompensationReleased(target, to, amount);
        _credit(to, amount);
    }

    /// @inheritdoc IStakeManager
    function releaseBond(address to, uint256 amount) external onlyRole(DISPUTE_ROLE) {
        uint256 held = _totals.bonds;
        if (amount > held) revert StakeManagerInsufficientBonds(amount, held);
        _totals.bonds = uint128(held - amount);
        emit BondReleased(to, amount);
        _credit(to, amount);
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IStakeManager
    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setTreasury(treasury_);
    }

    /// @inheritdoc IStakeManager
    function setChallengerShareBps(uint16 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setChallengerShareBps(bps);
    }

    /// @inheritdoc IStakeManager
    function setHarmedShareBps(uint16 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (bps > PolicyBounds.MAX_HARMED_SHARE_BPS) {
            revert StakeManagerInvalidHarmedShare(bps, PolicyBounds.MAX_HARMED_SHARE_BPS);
        }
        harmedShareBps = bps;
        emit HarmedShareUpdated(bps);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IStakeManager
    function stakeOf(address provider) external view returns (Stake memory) {
        return _stakes[provider];
    }

    /// @inheritdoc IStakeManager
    function creditOf(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @inheritdoc IStakeManager
    function totalOwed() external view returns (uint256) {
        Totals memory t = _totals;
        return uint256(t.active) + t.unbonding + t.bonds + t.credits + totalCompensations;
    }

    /// @inheritdoc IStakeManager
    function compensationOf(bytes32 target) external view returns (uint256) {
        return _compensations[target];
    }

    /// @inheritdoc IStakeManager
    function totalActive() external view returns (uint256) {
        return _totals.active;
    }

    /// @inheritdoc IStakeManager
    function totalUnbonding() external view returns (uint256) {
        return _totals.unbonding;
    }

    /// @inheritdoc IStakeManager
    function totalBonds() external view returns (uint256) {
        return _totals.bonds;
    }

    /// @inheritdoc IStakeManager
    function totalCredits() external view returns (uint256) {
        return _totals.credits;
    }

    // ------------------------------------------------------------------ internals

    /// @dev Takes up to `amount` from `provider` (active first, then unbonding) and splits it: the
    /// challengers' share held for the dispute contract, for a non-zero `target` the requester's share held
    /// for it, the rest to the treasury.
    function _slash(
        address provider,
        uint256 amount,
        uint16 challengerShareBps_,
        bytes32 target
    ) private returns (uint256 slashed, uint256 held, uint256 compensation) {
        _checkShare(challengerShareBps_);
        Stake storage stake = _stakes[provider];
        uint256 active = stake.active;
        uint256 unbonding = stake.unbonding;
        uint256 fromActive = amount < active ? amount : active;
        uint256 rest = amount - fromActive;
        uint256 fromUnbonding = rest < unbonding ? rest : unbonding;
        slashed = fromActive + fromUnbonding;
        if (slashed == 0) return (0, 0, 0);

        stake.active = uint96(active - fromActive);
        stake.unbonding = uint96(unbonding - fromUnbonding);
        _totals.active -= uint128(fromActive);
        _totals.unbonding -= uint128(fromUnbonding);

        held = (slashed * challengerShareBps_) / PolicyBounds.BPS;
        _totals.bonds += uint128(held);
        if (target != bytes32(0)) {
            compensation = (slashed * harmedShareBps) / PolicyBounds.BPS;
            if (compensation != 0) {
                _compensations[target] += compensation;
                totalCompensations += compensation;
                emit CompensationHeld(target, compensation);
            }
        }
        _credit(treasury, slashed - held - compensation);
        emit StakeSlashed(provider, slashed, held);
        if (fromActive != 0) ledger.syncProviderStake(provider, uint96(active - fromActive));
    }

    function _lock(address provider) private {
        Stake storage stake = _stakes[provider];
        uint24 open = stake.openDisputes + 1;
        stake.openDisputes = open;
        emit StakeLocked(provider, open);
    }

    function _postBond(address payer, uint256 amount) private {
        if (amount == 0) revert StakeManagerZeroAmount();
        _totals.bonds += uint128(amount);
        emit BondPosted(payer, amount);
        token.safeTransferFrom(payer, address(this), amount);
    }

    function _credit(address account, uint256 amount) private {
        if (amount == 0) return;
        if (account == address(0)) revert StakeManagerZeroAddress();
        _credits[account] += amount;
        _totals.credits += uint128(amount);
        emit Credited(account, amount);
    }

    function _setTreasury(address treasury_) private {
        if (treasury_ == address(0)) revert StakeManagerZeroAddress();
        treasury = treasury_;
        emit TreasuryUpdated(treasury_);
    }

    function _setChallengerShareBps(uint16 bps) private {
        _checkShare(bps);
        challengerShareBps = bps;
        emit ChallengerShareUpdated(bps);
    }

    /// @dev INVARIANT: proven fraud costs at least `(1 - MAX_CHALLENGER_SHARE_BPS) * slash`, and an honest
    /// challenger that alone overturns a commitment is paid at least its bond (policies are checked against
    /// MIN_CHALLENGER_SHARE_BPS).
    function _checkShare(uint16 bps) private pure {
        if (bps < PolicyBounds.MIN_CHALLENGER_SHARE_BPS || bps > PolicyBounds.MAX_CHALLENGER_SHARE_BPS) {
            revert StakeManagerInvalidShare(
                bps,
                PolicyBounds.MIN_CHALLENGER_SHARE_BPS,
                PolicyBounds.MAX_CHALLENGER_SHARE_BPS
            );
        }
    }
}
