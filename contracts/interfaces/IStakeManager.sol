// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IStakeManager
/// @notice Holds every token of the protocol: provider stakes (active and unbonding), dispute bonds
/// and credits. Providers deposit, request unbonding and withdraw after the unbonding delay.
/// Dispute contracts (DISPUTE_ROLE) lock a provider's stake while a dispute is open, slash it, and
/// hold bonds and escrowed challenger rewards. Every payout is a credit its owner claims (pull payments).
/// @dev INVARIANT: token.balanceOf(this) == totalActive + totalUnbonding + totalBonds + totalCredits,
/// where totalBonds is everything held for dispute contracts (bonds and escrowed rewards).
interface IStakeManager {
    /// @notice A provider's stake: one storage slot (96 + 96 + 40 + 24 bits).
    /// @dev uint40 seconds last until year 36812; uint24 open disputes would need 16.7M bonded disputes.
    struct Stake {
        uint96 active;
        uint96 unbonding;
        uint40 unbondingReadyAt;
        uint24 openDisputes;
    }

    /// @notice An amount was zero.
    error StakeManagerZeroAmount();
    /// @notice An amount does not fit the 96-bit stake fields.
    error StakeManagerAmountTooLarge(uint256 amount);
    /// @notice Unbonding more than the active stake.
    error StakeManagerInsufficientStake(uint256 requested, uint256 active);
    /// @notice Nothing is unbonding.
    error StakeManagerNothingUnbonding(address provider);
    /// @notice The unbonding delay has not passed.
    error StakeManagerStillUnbonding(address provider, uint40 readyAt);
    /// @notice The provider has unresolved disputes; no stake may leave.
    error StakeManagerOpenDisputes(address provider, uint24 openDisputes);
    /// @notice No dispute is locking this provider's stake.
    error StakeManagerNoLockedDispute(address provider);
    /// @notice The account has no credit to claim.
    error StakeManagerNoCredit(address account);
    /// @notice A bond release exceeds the bonds held.
    error StakeManagerInsufficientBonds(uint256 requested, uint256 held);
    /// @notice A challenger share outside the protocol's bounds [min, max] basis points.
    error StakeManagerInvalidShare(uint256 bps, uint256 min, uint256 max);
    /// @notice The zero address where an account is needed.
    error StakeManagerZeroAddress();
    /// @notice The unbonding delay is not longer than the longest challenge window plus the longest dispute.
    error StakeManagerUnbondingDelayTooShort(uint256 delay, uint256 min);
    /// @notice The harmed requester's share is above its bound.
    error StakeManagerInvalidHarmedShare(uint256 bps, uint256 max);

    /// @notice `provider` added `amount` to its active stake.
    event StakeDeposited(address indexed provider, uint256 amount, uint256 active);
    /// @notice `provider` moved `amount` from active to unbonding; all of it is withdrawable at `readyAt`.
    event UnbondingRequested(address indexed provider, uint256 amount, uint256 unbonding, uint40 readyAt);
    /// @notice `provider` withdrew its unbonded stake.
    event StakeWithdrawn(address indexed provider, uint256 amount);
    /// @notice A dispute locked the provider's stake (no withdrawal while any is open).
    event StakeLocked(address indexed provider, uint24 openDisputes);
    /// @notice A dispute released its lock on the provider's stake.
    event StakeUnlocked(address indexed provider, uint24 openDisputes);
    /// @notice `slashed` was taken from `provider`; `held` stays held for the dispute contract (the
    /// challengers' reward), the rest was credited to the treasury.
    event StakeSlashed(address indexed provider, uint256 slashed, uint256 held);
    /// @notice A bond of `amount` was taken from `payer`.
    event BondPosted(address indexed payer, uint256 amount);
    /// @notice A bond of `amount` was released as a credit to `to`.
    event BondReleased(address indexed to, uint256 amount);
    /// @notice `account` was credited `amount`.
    event Credited(address indexed account, uint256 amount);
    /// @notice `account` claimed `amount` of credit.
    event CreditClaimed(address indexed account, uint256 amount);
    /// @notice Governance set the treasury.
    event TreasuryUpdated(address treasury);
    /// @notice Governance set the challenger's share of slashes, in basis points.
    event ChallengerShareUpdated(uint16 bps);
    /// @notice The harmed requester's share of slashes of oracle answers changed.
    event HarmedShareUpdated(uint16 bps);
    /// @notice Part of a slash is held for the requester of the overturned oracle answer `target`.
    event CompensationHeld(bytes32 indexed target, uint256 amount);
    /// @notice The compensation held for `target` was credited to its requester `to`.
    event CompensationReleased(bytes32 indexed target, address indexed to, uint256 amount);

    /// @notice Adds `amount` to the caller's active stake (the caller must have approved this contract).
    function deposit(uint256 amount) external;

    /// @notice Moves `amount` of the caller's active stake to unbonding and restarts the unbonding clock.
    /// @dev Unbonding stake no longer counts toward a model's minimum but can still be slashed.
    function requestUnbond(uint256 amount) external;

    /// @notice Sends the caller all of its unbonding stake once the delay has passed and no dispute is open.
    /// @return amount What was sent.
    function withdraw() external returns (uint256 amount);

    /// @notice Sends the caller all of its credit.
    /// @return amount What was sent.
    function claim() external returns (uint256 amount);

    /// @notice Releases one dispute's lock on `provider`'s stake. DISPUTE_ROLE only.
    function unlockStake(address provider) external;

    /// @notice Slashes up to `amount` from `provider` (active first, then unbonding). DISPUTE_ROLE only.
    /// @param challengerShareBps The challengers' share, as snapshotted by the dispute when it opened:
    /// `floor(slashed * share / 10,000)` stays held for the dispute contract to pay out with
    /// `releaseBond`; the rest is credited to the treasury.
    /// @return slashed What was actually taken (less than `amount` if the stake ran out).
    /// @return held The challengers' part, now held.
    function slash(
        address provider,
        uint256 amount,
        uint16 challengerShareBps
    ) external returns (uint256 slashed, uint256 held);

    /// @notice As `slash`, for an overturned answer to an oracle request (`target` is its commitment id):
    /// `floor(slashed * harmedShareBps / 10,000)` of the treasury's part is held for the requester instead,
    /// until the oracle releases it with `releaseCompensation`. DISPUTE_ROLE only.
    /// @return slashed What was actually taken.
    /// @return held The challengers' part, now held.
    /// @return compensation The requester's part, now held for `target`.
    function slashCompensating(
        address provider,
        uint256 amount,
        uint16 challengerShareBps,
        bytes32 target
    ) external returns (uint256 slashed, uint256 held, uint256 compensation);

    /// @notice Credits `to` with the compensation held for `target` (zero if none) and clears it.
    /// ORACLE_ROLE only.
    /// @return amount What was credited.
    function releaseCompensation(bytes32 target, address to) external returns (uint256 amount);

    /// @notice Sets the requester's share of future slashes of overturned oracle answers, at most
    /// `PolicyBounds.MAX_HARMED_SHARE_BPS` (20%). DEFAULT_ADMIN_ROLE only.
    function setHarmedShareBps(uint16 bps) external;

    /// @notice The compensation held for the requester of the overturned oracle answer `target`.
    function compensationOf(bytes32 target) external view returns (uint256);

    /// @notice Sum of all compensations held for requesters.
    function totalCompensations() external view returns (uint256);

    /// @notice The requester's share of slashes of overturned oracle answers, in basis points.
    function harmedShareBps() external view returns (uint16);

    /// @notice Opens a dispute's stake position in one call: locks `provider`'s stake, takes `bond` from
    /// `challenger` (who approved this contract), and returns the challenger share the dispute snapshots.
    /// DISPUTE_ROLE only.
    function openDisputeStake(
        address provider,
        address challenger,
        uint256 bond
    ) external returns (uint16 challengerShareBps);

    /// @notice Releases `amount` of what is held (bonds, escrowed rewards) as a credit to `to`. DISPUTE_ROLE only.
    function releaseBond(address to, uint256 amount) external;

    /// @notice Sets where the non-challenger part of slashes goes. DEFAULT_ADMIN_ROLE only.
    function setTreasury(address treasury) external;

    /// @notice Sets the challenger's share of future disputes' slashes, within the protocol's bounds
    /// (PolicyBounds: 20% to 50%). DEFAULT_ADMIN_ROLE only.
    function setChallengerShareBps(uint16 bps) external;

    /// @notice The staking token.
    function token() external view returns (IERC20);

    /// @notice A provider's stake record.
    function stakeOf(address provider) external view returns (Stake memory);

    /// @notice Unclaimed credit of `account`.
    function creditOf(address account) external view returns (uint256);

    /// @notice Total the contract owes: active + unbonding stakes, bonds, compensations and credits.
    function totalOwed() external view returns (uint256);

    /// @notice Sum of all active stakes.
    function totalActive() external view returns (uint256);

    /// @notice Sum of all unbonding stakes.
    function totalUnbonding() external view returns (uint256);

    /// @notice Sum of all that is held for dispute contracts: bonds of open games and escrowed rewards.
    function totalBonds() external view returns (uint256);

    /// @notice Sum of all unclaimed credits.
    function totalCredits() external view returns (uint256);

    /// @notice Seconds between an unbonding request and the withdrawal it allows.
    function unbondingDelay() external view returns (uint256);

    /// @notice The treasury credited with the non-challenger part of slashes.
    function treasury() external view returns (address);

    /// @notice The challenger's share of slashes, in basis points, for disputes opened now.
    function challengerShareBps() external view returns (uint16);
}
