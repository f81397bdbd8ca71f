// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice An ERC-20 that re-enters: when armed, `transfer` or `transferFrom` calls `target` with `data`
/// once, before or after moving the balance (an ERC-777-style hook). The outcome of the re-entrant call
/// is recorded, not bubbled, so a test can check that the call failed or had no effect while the outer
/// operation went through. Tests only: anyone may mint, arm and `exec`.
contract MaliciousToken is ERC20 {
    /// @notice Which token function fires the hook.
    enum Trigger {
        None,
        Transfer,
        TransferFrom
    }

    /// @notice The hook fired; `success` and `returnData` are the re-entrant call's result.
    event HookCalled(address indexed target, bool success, bytes returnData);

    /// @notice `exec` failed; its revert data.
    error MaliciousTokenExecFailed(bytes returnData);

    Trigger public trigger;
    /// @notice Whether the hook fires before the balance moves (else after).
    bool public beforeMove;
    address public hookTarget;
    bytes public hookData;
    /// @notice Number of times the hook fired.
    uint256 public hookCalls;
    /// @notice Result of the last re-entrant call.
    bool public lastSuccess;
    bytes public lastReturnData;

    constructor() ERC20("Malicious Stake", "MAL") {}

    /// @notice Mints `amount` to `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the hook: the next `trigger` call re-enters `target` with `data`.
    function arm(Trigger trigger_, bool beforeMove_, address target, bytes calldata data) external {
        trigger = trigger_;
        beforeMove = beforeMove_;
        hookTarget = target;
        hookData = data;
    }

    /// @notice Lets the token itself act as an account (approve, open disputes, claim) in tests.
    function exec(address target, bytes calldata data) external returns (bytes memory) {
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = target.call(data);
        if (!ok) revert MaliciousTokenExecFailed(ret);
        return ret;
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 value) public override returns (bool) {
        if (beforeMove) _hook(Trigger.Transfer);
        bool ok = super.transfer(to, value);
        if (!beforeMove) _hook(Trigger.Transfer);
        return ok;
    }

    /// @inheritdoc ERC20
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (beforeMove) _hook(Trigger.TransferFrom);
        bool ok = super.transferFrom(from, to, value);
        if (!beforeMove) _hook(Trigger.TransferFrom);
        return ok;
    }

    function _hook(Trigger fired) private {
        if (trigger != fired) return;
        trigger = Trigger.None; // once
        ++hookCalls;
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = hookTarget.call(hookData);
        lastSuccess = ok;
        lastReturnData = ret;
        emit HookCalled(hookTarget, ok, ret);
    }
}
