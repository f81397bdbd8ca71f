// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {CommitmentStatus, Finality, Inference, TeeSeal} from "../types/Commitment.sol";
import {Fulfillment, Request, RequestState, RequestStatus, ResultStatus} from "../types/Oracle.sol";

/// @title IInferenceOracle
/// @notice Requests for inferences of registered models, paid in escrow, answered by staked providers with
/// ledger commitments bound to the request, and delivered to a consumer contract once final.
/// @dev docs/protocol.md, "Oracle". Calls that name a request pass it by content (`Request`), and the
/// oracle checks its id; the SDK rebuilds it from `InferenceRequested`.
interface IInferenceOracle {
    // ------------------------------------------------------------------ errors

    /// @notice The model does not accept commitments now.
    error InferenceOracleModelNotAccepting(bytes32 modelId);
    /// @notice The input is not exactly the model's input length.
    error InferenceOracleInputLength(uint256 expected, uint256 actual);
    /// @notice `accepts` names no finality kind, or an unknown one.
    error InferenceOracleInvalidFinality(uint8 accepts);
    /// @notice A request must pay its provider.
    error InferenceOracleZeroFee();
    /// @notice The callback gas limit is above the oracle's bound.
    error InferenceOracleCallbackGasTooHigh(uint256 callbackGasLimit, uint256 max);
    /// @notice The deadline leaves no time to answer, wait out the challenge window and the longest dispute.
    error InferenceOracleDeadlineTooSoon(uint40 deadline, uint256 earliest);
    /// @notice The deadline is further than the oracle's bound on how long fees stay escrowed.
    error InferenceOracleDeadlineTooFar(uint40 deadline, uint256 latest);
    /// @notice No request has these contents.
    error InferenceOracleUnknownRequest(bytes32 requestId);
    /// @notice The request is not in the status this call needs.
    error InferenceOracleWrongStatus(bytes32 requestId, RequestStatus status);
    /// @notice Answers are no longer accepted: one given now might not be final by the deadline.
    error InferenceOracleFulfillmentClosed(bytes32 requestId, uint40 fulfillBy);
    /// @notice The answer is for another input.
    error InferenceOracleInputMismatch(bytes32 expected, bytes32 actual);
    /// @notice The output does not hash to the answer's output hash.
    error InferenceOracleOutputMismatch(bytes32 outputHash, bytes32 actual);
    /// @notice The output is not exactly the model's output length.
    error InferenceOracleOutputLength(uint256 expected, uint256 actual);
    /// @notice The request does not accept answers that settle this way.
    error InferenceOracleFinalityNotAccepted(bytes32 requestId, Finality finality, uint8 accepts);
    /// @notice The fulfillment passed is not the request's live answer.
    error InferenceOracleWrongFulfillment(bytes32 requestId, bytes32 commitmentId);
    /// @notice The answer is not final in a way the request accepts (yet).
    error InferenceOracleNotSettleable(bytes32 requestId, CommitmentStatus status, Finality finality);
    /// @notice The answer is still live: pending, disputed, or final in an accepted way.
    error InferenceOracleNotReopenable(bytes32 requestId, CommitmentStatus status, Finality finality);
    /// @notice The request's deadline has not passed.
    error InferenceOracleNotExpired(bytes32 requestId, uint40 deadline);
    /// @notice Too little gas is left to give the callback all of its gas limit (the 63/64 rule plus a margin).
    error InferenceOracleInsufficientGas(uint256 available, uint256 required);
    /// @notice Nothing to withdraw.
    error InferenceOracleNoCredit(address account);
    /// @notice A zero address where one is needed.
    error InferenceOracleZeroAddress();

    // ------------------------------------------------------------------ events

    /// @notice A request was made; `input` is the model's input, for providers and challengers.
    event InferenceRequested(
        bytes32 indexed requestId,
        bytes32 indexed modelId,
        address indexed requester,
        Request request,
        bytes input
    );
    /// @notice A provider answered; `output` is the model's output its commitment claims.
    event RequestFulfilled(
        bytes32 indexed requestId,
        bytes32 indexed commitmentId,
        address indexed provider,
        Fulfillment fulfillment,
        bytes output
    );
    /// @notice The live answer was overturned (or became final in a way the request does not accept): the
    /// request is open again, and `compensation` of the cheater's slash was credited to the requester in
    /// the stake manager.
    event RequestReopened(
        bytes32 indexed requestId,
        bytes32 indexed commitmentId,
        CommitmentStatus status,
        uint256 compensation
    );
    /// @notice The answer is final in an accepted way: the provider is credited `fee`, then the consumer is
    /// called. The output is in the answer's `RequestFulfilled` event; its hash is kept (`resultOf`).
    event RequestSettled(
        bytes32 indexed requestId,
        bytes32 indexed commitmentId,
        address indexed provider,
        Finality finality,
        bytes32 outputHash,
        uint256 fee
    );
    /// @notice No accepted final answer by the deadline: the fee is credited back to the requester, then the
    /// consumer is called with `Expired`.
    event RequestRefunded(bytes32 indexed requestId, address indexed requester, uint256 fee);
    /// @notice The consumer's callback ran (`delivered`) or reverted / ran out of gas (not `delivered`).
    event CallbackResult(bytes32 indexed requestId, address indexed consumer, ResultStatus status, bool delivered);
    /// @notice `account` withdrew `amount`.
    event Withdrawn(address indexed account, uint256 amount);

    // ------------------------------------------------------------------ requests

    /// @notice Asks `modelId` for its answer to `input`, escrowing `fee` from the caller (approve it first).
    /// @param input Exactly the model's input (it is in the event, so challengers have it).
    /// @param fee The provider's pay; it covers the callback gas asked for.
    /// @param consumer Receives `onInferenceResult`; zero for none.
    /// @param callbackGasLimit Gas the callback is called with (at most `MAX_CALLBACK_GAS`).
    /// @param deadline After it, a request with no accepted final answer is refunded. At least the model's
    /// challenge window plus its longest dispute from now, at most `MAX_REQUEST_LIFETIME`.
    /// @param accepts Finality kinds the consumer accepts, as bits `1 << uint8(Finality)` (`ACCEPT_ANY` = 14).
    /// @param provisional Whether the consumer also wants a provisional callback for each committed answer.
    /// @return requestId `keccak256(abi.encode(address(this), request))`.
    function request(
        bytes32 modelId,
        bytes calldata input,
        uint96 fee,
        address consumer,
        uint32 callbackGasLimit,
        uint40 deadline,
        uint8 accepts,
        bool provisional
    ) external returns (bytes32 requestId);

    /// @notice Answers an open request with the caller's commitment (the caller must be staked for the
    /// model). The commitment is bound to the request id; the output is in the event.
    /// @return commitmentId The ledger commitment.
    function fulfill(
        Request calldata request,
        Inference calldata inference,
        bytes calldata output
    ) external returns (bytes32 commitmentId);

    /// @notice As `fulfill`, with an enclave key's EIP-712 seal over the inference (`commitTee`'s rules).
    function fulfillTee(
        Request calldata request,
        Inference calldata inference,
        bytes calldata output,
        TeeSeal calldata seal
    ) external returns (bytes32 commitmentId);

    /// @notice Settles a request whose live answer is final in an accepted way: credits the provider the
    /// fee and calls the consumer once with `Final`. Anyone may call it; it needs enough gas for the whole
    /// callback gas limit.
    function settle(Request calldata request, Fulfillment calldata fulfillment, bytes calldata output) external;

    /// @notice Reopens a request whose live answer was overturned, or became final in a way the request does
    /// not accept, or was proven wrong after instant finality: the requester is credited the compensation
    /// held for that answer, and another provider may answer. Anyone may call it.
    function reopen(Request calldata request, Fulfillment calldata fulfillment) external;

    /// @notice Refunds an open request after its deadline: the fee is credited back to the requester and
    /// the consumer is called once with `Expired`. Anyone may call it (reopen an overturned answer first).
    function refundExpired(Request calldata request) external;

    /// @notice Sends the caller all of its credit (fees earned, refunds).
    /// @return amount What was sent.
    function withdraw() external returns (uint256 amount);

    // ------------------------------------------------------------------ views

    /// @notice The fee token.
    function token() external view returns (IERC20);

    /// @notice The state of a request.
    function stateOf(bytes32 requestId) external view returns (RequestState memory);

    /// @notice The output hash of a settled request (zero before).
    function resultOf(bytes32 requestId) external view returns (bytes32 outputHash);

    /// @notice The id of `request`.
    function requestIdOf(Request calldata request) external view returns (bytes32);

    /// @notice The ledger commitment id of `fulfillment` for `request`.
    function commitmentIdOf(Request calldata request, Fulfillment calldata fulfillment) external pure returns (bytes32);

    /// @notice Unclaimed credit of `account`.
    function creditOf(address account) external view returns (uint256);

    /// @notice Total the oracle owes: escrowed fees and unclaimed credits. Its token balance equals it.
    function totalOwed() external view returns (uint256);

    /// @notice Requests made so far (the next request's nonce).
    function requestCount() external view returns (uint64);
}
