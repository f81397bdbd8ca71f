// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {ResultStatus} from "../types/Oracle.sol";

/// @notice Records every callback it receives (tests only).
contract RecordingConsumer is IInferenceConsumer {
    /// @notice One received callback.
    event Received(bytes32 indexed requestId, ResultStatus status, bytes output, uint256 gasLeft);

    /// @notice Callbacks received per request and status.
    mapping(bytes32 requestId => mapping(ResultStatus status => uint256)) public calls;
    /// @notice The last output received per request.
    mapping(bytes32 requestId => bytes) public lastOutput;

    /// @inheritdoc IInferenceConsumer
    function onInferenceResult(bytes32 requestId, bytes calldata output, ResultStatus status) external {
        uint256 gasLeft = gasleft();
        calls[requestId][status] += 1;
        lastOutput[requestId] = output;
        emit Received(requestId, status, output, gasLeft);
    }
}

/// @notice Always reverts, with a long reason (tests only).
contract RevertingConsumer is IInferenceConsumer {
    /// @notice Its revert, carrying a long reason.
    error RevertingConsumerRejects(string reason);

    /// @inheritdoc IInferenceConsumer
    function onInferenceResult(bytes32, bytes calldata, ResultStatus) external pure {
        revert RevertingConsumerRejects("this consumer rejects every result, always, with a long reason string");
    }
}

/// @notice Burns all the gas it is given (tests only).
contract GasBurnerConsumer is IInferenceConsumer {
    /// @notice Written in the loop so that it is not optimized away.
    uint256 public counter;

    /// @inheritdoc IInferenceConsumer
    function onInferenceResult(bytes32, bytes calldata, ResultStatus) external {
        while (true) counter += 1;
    }
}

/// @notice Returns (or reverts with) a huge payload, to check the oracle never copies it (tests only).
contract HugeReturnConsumer is IInferenceConsumer {
    /// @notice Bytes returned.
    uint256 public immutable size;
    /// @notice Whether it reverts with the payload instead of returning it.
    bool public immutable reverts;

    constructor(uint256 size_, bool reverts_) {
        size = size_;
        reverts = reverts_;
    }

    /// @inheritdoc IInferenceConsumer
    function onInferenceResult(bytes32, bytes calldata, ResultStatus) external view {
        uint256 n = size;
        bool r = reverts;
        assembly ("memory-safe") {
            if r {
                revert(0, n)
            }
            return(0, n)
        }
    }
}

/// @notice Re-enters `target` with `data` from its callback and records the outcome (tests only).
contract ReentrantConsumer is IInferenceConsumer {
    /// @notice The re-entrant call's outcome.
    event Reentered(bool success, bytes returnData);

    address public reentryTarget;
    bytes public data;
    /// @notice Outcome of the last re-entrant call.
    bool public lastSuccess;
    bytes public lastReturn;

    /// @notice Sets the call made from the callback.
    function arm(address target_, bytes calldata data_) external {
        reentryTarget = target_;
        data = data_;
    }

    /// @inheritdoc IInferenceConsumer
    function onInferenceResult(bytes32, bytes calldata, ResultStatus) external {
        // solhint-disable-next-line avoid-low-level-calls
        (bool success, bytes memory returnData) = reentryTarget.call(data);
        lastSuccess = success;
        lastReturn = returnData;
        emit Reentered(success, returnData);
    }
}
