// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ResultStatus} from "../types/Oracle.sol";

/// @title IInferenceConsumer
/// @notice What a contract implements to receive the answers of the `InferenceOracle` requests it is the
/// consumer of.
/// @dev Called with exactly the request's `callbackGasLimit`. A revert, an out-of-gas or a return value of
/// any size never blocks settlement or payment: the oracle records the failure in `CallbackResult` and the
/// result stays readable (`InferenceOracle.resultOf`, the output in `RequestSettled`). A consumer hears one
/// final outcome per request (`Final` or `Expired`) and, if it asked, `Provisional` for each committed answer
/// before that. Check `msg.sender` is the oracle.
interface IInferenceConsumer {
    /// @param requestId The request this answers.
    /// @param output The model's output bytes (int8 logits for dense-int8-v1); empty when `Expired`.
    /// @param status Provisional (can still be overturned), Final or Expired.
    function onInferenceResult(bytes32 requestId, bytes calldata output, ResultStatus status) external;
}
