// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Ghost state of the stake invariant campaign: the actors, an independent model of every
/// provider's stake, who was credited and who claimed what, bonds in and out, and counters of any
/// property a handler saw broken. Only the two handlers write it; the invariant test reads it.
contract StakeGhosts {
    /// @notice What the stake of one provider should be, computed from the handlers' successful calls.
    struct ProviderModel {
        uint256 active;
        uint256 unbonding;
        uint256 readyAt;
        uint256 locks;
        uint256 deposited;
        uint256 withdrawn;
        uint256 slashed;
    }

    error StakeGhostsNotHandler(address caller);

    address private immutable _owner;
    address public providerHandler;
    address public disputeHandler;

    address[] private _providers;
    address[] private _challengers;
    address public immutable treasury;
    address[] private _actors;

    mapping(address provider => ProviderModel) private _models;
    mapping(address account => uint256) public credited;
    mapping(address account => uint256) public claimed;
    uint256 public bondsPosted;
    /// @notice The challengers' shares of slashes, held by the stake manager for the dispute contract.
    uint256 public sharesHeld;
    uint256 public bondsReleased;
    /// @notice The challenger share governance last set.
    uint16 public shareBps;

    /// @notice A withdrawal succeeded before readyAt, with a lock held, or with nothing unbonding.
    uint256 public earlyWithdrawals;
    /// @notice A withdrawal, claim or bond moved an amount other than what was owed, or a dispute stake
    /// returned a share other than the current one, or a refused share was set.
    uint256 public wrongPayouts;
    /// @notice A slash took other than min(amount, active) then min(rest, unbonding), held other than
    /// floor(slashed * share / 10,000), or credited the treasury other than the rest.
    uint256 public wrongSlashes;
    /// @notice A call the model says must succeed reverted, or one that must fail failed with the wrong error.
    uint256 public unexpectedReverts;
    /// @notice Revert data of the last unexpected revert, for debugging a failed campaign.
    bytes public lastUnexpectedRevert;

    modifier onlyHandler() {
        if (msg.sender != providerHandler && msg.sender != disputeHandler) revert StakeGhostsNotHandler(msg.sender);
        _;
    }

    constructor(address[] memory providers_, address[] memory challengers_, address treasury_, uint16 shareBps_) {
        _owner = msg.sender;
        shareBps = shareBps_;
        _providers = providers_;
        _challengers = challengers_;
        treasury = treasury_;
        for (uint256 i; i < providers_.length; ++i) _actors.push(providers_[i]);
        for (uint256 i; i < challengers_.length; ++i) _actors.push(challengers_[i]);
        _actors.push(treasury_);
    }

    /// @notice Registers the two handlers; once, by the deployer.
    function setHandlers(address providerHandler_, address disputeHandler_) external {
        if (msg.sender != _owner || providerHandler != address(0)) revert StakeGhostsNotHandler(msg.sender);
        providerHandler = providerHandler_;
        disputeHandler = disputeHandler_;
    }

    // ------------------------------------------------------------------ model updates

    function onDeposit(address provider, uint256 amount) external onlyHandler {
        ProviderModel storage m = _models[provider];
        m.active += amount;
        m.deposited += amount;
    }

    function onUnbond(address provider, uint256 amount, uint256 readyAt) external onlyHandler {
        ProviderModel storage m = _models[provider];
        m.active -= amount;
        m.unbonding += amount;
        m.readyAt = readyAt;
    }

    function onWithdraw(address provider, uint256 amount) external onlyHandler {
        ProviderModel storage m = _models[provider];
        m.unbonding -= amount;
        m.readyAt = 0;
        m.withdrawn += amount;
    }

    function onLock(address provider) external onlyHandler {
        _models[provider].locks += 1;
    }

    function onUnlock(address provider) external onlyHandler {
        _models[provider].locks -= 1;
    }

    function onSlash(
        address provider,
        uint256 fromActive,
        uint256 fromUnbonding,
        uint256 heldShare
    ) external onlyHandler {
        ProviderModel storage m = _models[provider];
        m.active -= fromActive;
        m.unbonding -= fromUnbonding;
        m.slashed += fromActive + fromUnbonding;
        sharesHeld += heldShare;
        credited[treasury] += fromActive + fromUnbonding - heldShare;
    }

    function onShare(uint16 bps) external onlyHandler {
        shareBps = bps;
    }

    function onClaim(address account, uint256 amount) external onlyHandler {
        claimed[account] += amount;
    }

    function onBondPosted(uint256 amount) external onlyHandler {
        bondsPosted += amount;
    }

    function onBondReleased(address to, uint256 amount) external onlyHandler {
        bondsReleased += amount;
        credited[to] += amount;
    }

    // ------------------------------------------------------------------ violations

    function recordEarlyWithdrawal() external onlyHandler {
        earlyWithdrawals += 1;
    }

    function recordWrongPayout() external onlyHandler {
        wrongPayouts += 1;
    }

    function recordWrongSlash() external onlyHandler {
        wrongSlashes += 1;
    }

    function recordUnexpectedRevert(bytes calldata data) external onlyHandler {
        unexpectedReverts += 1;
        lastUnexpectedRevert = data;
    }

    // ------------------------------------------------------------------ views

    /// @notice What the stake manager should hold for dispute contracts: bonds and shares, less releases.
    function held() external view returns (uint256) {
        return bondsPosted + sharesHeld - bondsReleased;
    }

    function modelOf(address provider) external view returns (ProviderModel memory) {
        return _models[provider];
    }

    function providers() external view returns (address[] memory) {
        return _providers;
    }

    function challengers() external view returns (address[] memory) {
        return _challengers;
    }

    /// @notice Providers, then challengers, then the treasury: every account that can hold stake or credit.
    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function providerAt(uint256 seed) external view returns (address) {
        return _providers[seed % _providers.length];
    }

    function challengerAt(uint256 seed) external view returns (address) {
        return _challengers[seed % _challengers.length];
    }

    function actorAt(uint256 seed) external view returns (address) {
        return _actors[seed % _actors.length];
    }

    function providerCount() external view returns (uint256) {
        return _providers.length;
    }

    function actorCount() external view returns (uint256) {
        return _actors.length;
    }
}
