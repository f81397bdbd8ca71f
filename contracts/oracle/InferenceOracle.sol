// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceLedger} from "../interfaces/IInferenceLedger.sol";
import {IInferenceOracle} from "../interfaces/IInferenceOracle.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IStakeManager} from "../interfaces/IStakeManager.sol";
import {PolicyBounds} from "../libraries/PolicyBounds.sol";
import {CommitmentStatus, Finality, Inference, TeeSeal} from "../types/Commitment.sol";
import {CommitTerms, DisputeTerms} from "../types/Model.sol";
import {LayerSpec} from "../types/LayerSpec.sol";
import {Fulfillment, Request, RequestState, RequestStatus, ResultStatus} from "../types/Oracle.sol";

/// @title InferenceOracle
/// @notice Requests for inferences with the fee in escrow, answered by staked providers with commitments
/// bound to the request, settled once the answer is final in a way the consumer accepts, with exactly one
/// final callback, and refunded by anyone after the deadline.
/// @dev Pull payments: fees earned and refunds are credits, withdrawn with `withdraw`. The token balance
/// equals `totalOwed()` (escrowed fees plus credits), whatever a consumer or the token does: every value
/// path is `nonReentrant` and changes state before it calls out. A consumer's callback runs with exactly
/// its gas limit, its return data is never copied, and its failure is recorded, never propagated.
contract InferenceOracle is IInferenceOracle, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice `accepts` bit: Final because the challenge window passed.
    uint8 public constant ACCEPT_WINDOW = uint8(1) << uint8(Finality.ChallengeWindow);
    /// @notice `accepts` bit: Final because a valid enclave key signed it.
    uint8 public constant ACCEPT_TEE = uint8(1) << uint8(Finality.Tee);
    /// @notice `accepts` bit: Final because a proof verified it.
    uint8 public constant ACCEPT_PROOF = uint8(1) << uint8(Finality.Proof);
    /// @notice Every finality kind.
    uint8 public constant ACCEPT_ANY = ACCEPT_WINDOW | ACCEPT_TEE | ACCEPT_PROOF;

    /// @notice Highest callback gas limit: with the oracle's own work, a settlement stays far below the
    /// 16,777,216 gas a transaction may use (EIP-7825).
    uint32 public constant MAX_CALLBACK_GAS = 5_000_000;
    /// @notice Longest a fee may stay in escrow.
    uint256 public constant MAX_REQUEST_LIFETIME = 365 days;
    /// @notice Gas kept besides the callback's 64/63 share: the call itself (a cold account) and what the
    /// oracle does after it returns.
    uint256 public constant CALLBACK_GAS_MARGIN = 10_000;

    /// @inheritdoc IInferenceOracle
    IERC20 public immutable token;
    /// @notice The ledger that records the answers (this contract holds its ORACLE_ROLE).
    IInferenceLedger public immutable ledger;
    /// @notice The model registry: challenge windows, dispute terms, output lengths.
    IModelRegistry public immutable registry;
    /// @notice Holds the requesters' compensation from slashes (this contract holds its ORACLE_ROLE).
    IStakeManager public immutable stakeManager;

    /// @dev The request counter and everything owed in one slot: fees move from escrow to a credit
    /// without changing the total, so only requests and withdrawals write it. 64 + 192 bits.
    struct Totals {
        uint64 requests;
        uint192 owed;
    }

    /// @dev What a request needs of a model besides the ledger's admission cache, read from the registry on
    /// the model's first request: a model id's layers and policy never change, so this never goes stale.
    struct ModelTerms {
        uint32 responseWindow;
        uint24 outputLength;
    }

    Totals private _totals;
    mapping(bytes32 modelId => ModelTerms) private _models;
    mapping(bytes32 requestId => RequestState) private _states;
    mapping(bytes32 requestId => bytes32 outputHash) private _results;
    mapping(address account => uint256) private _credits;

    /// @param token_ The fee token (a plain ERC-20, as the stake manager's).
    constructor(IERC20 token_, IInferenceLedger ledger_, IModelRegistry registry_, IStakeManager stakeManager_) {
        if (
            address(token_) == address(0) ||
            address(ledger_) == address(0) ||
            address(registry_) == address(0) ||
            address(stakeManager_) == address(0)
        ) revert InferenceOracleZeroAddress();
        token = token_;
        ledger = ledger_;
        registry = registry_;
        stakeManager = stakeManager_;
    }

    // ------------------------------------------------------------------ requests

    /// @inheritdoc IInferenceOracle
    function request(
        bytes32 modelId,
        bytes calldata input,
        uint96 fee,
        address consumer,
        uint32 callbackGasLimit,
        uint40 deadline,
        uint8 accepts,
        bool provisional
    ) external nonReentrant returns (bytes32 requestId) {
        if (fee == 0) revert InferenceOracleZeroFee();
        if (accepts == 0 || accepts & ~ACCEPT_ANY != 0) revert InferenceOracleInvalidFinality(accepts);
        if (callbackGasLimit > MAX_CALLBACK_GAS) {
            revert InferenceOracleCallbackGasTooHigh(callbackGasLimit, MAX_CALLBACK_GAS);
        }
        CommitTerms memory terms = ledger.commitTermsOf(modelId);
        if (block.timestamp >= terms.acceptsUntil) revert InferenceOracleModelNotAccepting(modelId);
        // Only models a dispute game can recompute have an input length: an opaque engine cannot serve here.
        if (terms.inputDim == 0 || input.length != terms.inputDim) {
            revert InferenceOracleInputLength(terms.inputDim, input.length);
        }
        ModelTerms memory model = _modelTerms(modelId);
        uint40 fulfillBy = _fulfillBy(terms.challengeWindow, model.responseWindow, deadline);

        Totals memory totals = _totals;
        Request memory r = Request({
            modelId: modelId,
            inputHash: keccak256(input),
            requester: msg.sender,
            consumer: consumer,
            fee: fee,
            callbackGasLimit: callbackGasLimit,
            deadline: deadline,
            fulfillBy: fulfillBy,
            accepts: accepts,
            provisional: provisional,
            outputLength: model.outputLength,
            nonce: totals.requests
        });
        requestId = keccak256(abi.encode(address(this), r));
        _totals = Totals({requests: totals.requests + 1, owed: totals.owed + fee});
        _states[requestId] = RequestState({
            status: RequestStatus.Open,
            attempts: 0,
            finality: Finality.None,
            commitment: bytes20(0)
        });
        emit InferenceRequested(requestId, modelId, msg.sender, r, input);
        token.safeTransferFrom(msg.sender, address(this), fee);
    }

    /// @inheritdoc IInferenceOracle
    function fulfill(
        Request calldata r,
        Inference calldata inference,
        bytes calldata output
    ) external nonReentrant returns (bytes32 commitmentId) {
        (bytes32 requestId, RequestState storage state) = _answerable(r, inference, output);
        if (r.accepts & ACCEPT_WINDOW == 0) {
            revert InferenceOracleFinalityNotAccepted(requestId, Finality.ChallengeWindow, r.accepts);
        }
        commitmentId = ledger.commitForRequest(msg.sender, r.modelId, inference, requestId);
        _fulfilled(state, requestId, r, commitmentId, Fulfillment(msg.sender, inference, requestId), output);
    }

    /// @inheritdoc IInferenceOracle
    function fulfillTee(
        Request calldata r,
        Inference calldata inference,
        bytes calldata output,
        TeeSeal calldata seal
    ) external nonReentrant returns (bytes32 commitmentId) {
        (bytes32 requestId, RequestState storage state) = _answerable(r, inference, output);
        if (r.accepts & ACCEPT_TEE == 0) revert InferenceOracleFinalityNotAccepted(requestId, Finality.Tee, r.accepts);
        bytes32 binding;
        (commitmentId, binding) = ledger.commitSealedForRequest(msg.sender, r.modelId, inference, seal, requestId);
        _fulfilled(state, requestId, r, commitmentId, Fulfillment(msg.sender, inference, binding), output);
    }

    /// @inheritdoc IInferenceOracle
    function settle(Request calldata r, Fulfillment calldata f, bytes calldata output) external nonReentrant {
        (bytes32 requestId, RequestState storage state, bytes32 id) = _live(r, f);
        bytes32 outputHash = keccak256(output);
        if (outputHash != f.inference.outputHash)
            revert InferenceOracleOutputMismatch(f.inference.outputHash, outputHash);
        (CommitmentStatus status, Finality finality) = _finalityOf(id);
        // INVARIANT: the final callback carries only an answer that can no longer be overturned.
        if (status != CommitmentStatus.Final || !_accepted(r.accepts, finality)) {
            revert InferenceOracleNotSettleable(requestId, status, finality);
        }
        state.status = RequestStatus.Settled;
        state.finality = finality;
        _results[requestId] = outputHash;
        // RequestSettled records the credit (no Credited event: the settlement's gas budget is tight).
        _credits[f.provider] += r.fee;
        emit RequestSettled(requestId, id, f.provider, finality, outputHash, r.fee);
        _callback(requestId, r, output, ResultStatus.Final);
    }

    /// @inheritdoc IInferenceOracle
    function reopen(Request calldata r, Fulfillment calldata f) external nonReentrant {
        (bytes32 requestId, RequestState storage state, bytes32 id) = _live(r, f);
        (CommitmentStatus status, Finality finality) = _finalityOf(id);
        bool live =
            status == CommitmentStatus.Pending ||
                status == CommitmentStatus.Disputed ||
                (status == CommitmentStatus.Final && _accepted(r.accepts, finality));
        if (live) revert InferenceOracleNotReopenable(requestId, status, finality);
        state.status = RequestStatus.Open;
        state.commitment = bytes20(0);
        uint256 compensation = stakeManager.releaseCompensation(id, r.requester);
        emit RequestReopened(requestId, id, status, compensation);
    }

    /// @inheritdoc IInferenceOracle
    function refundExpired(Request calldata r) external nonReentrant {
        bytes32 requestId = _requestId(r);
        RequestState storage state = _states[requestId];
        _expectStatus(requestId, state.status, RequestStatus.Open);
        if (block.timestamp <= r.deadline) revert InferenceOracleNotExpired(requestId, r.deadline);
        state.status = RequestStatus.Refunded;
        _credits[r.requester] += r.fee;
        emit RequestRefunded(requestId, r.requester, r.fee);
        _callback(requestId, r, "", ResultStatus.Expired);
    }

    /// @inheritdoc IInferenceOracle
    function withdraw() external nonReentrant returns (uint256 amount) {
        amount = _credits[msg.sender];
        if (amount == 0) revert InferenceOracleNoCredit(msg.sender);
        _credits[msg.sender] = 0;
        _totals.owed -= uint192(amount);
        emit Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IInferenceOracle
    function stateOf(bytes32 requestId) external view returns (RequestState memory) {
        return _states[requestId];
    }

    /// @inheritdoc IInferenceOracle
    function resultOf(bytes32 requestId) external view returns (bytes32) {
        return _results[requestId];
    }

    /// @inheritdoc IInferenceOracle
    function requestIdOf(Request calldata r) external view returns (bytes32) {
        return _requestId(r);
    }

    /// @inheritdoc IInferenceOracle
    function commitmentIdOf(Request calldata r, Fulfillment calldata f) external pure returns (bytes32) {
        return _commitmentId(r, f);
    }

    /// @inheritdoc IInferenceOracle
    function creditOf(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @inheritdoc IInferenceOracle
    function totalOwed() external view returns (uint256) {
        return _totals.owed;
    }

    /// @inheritdoc IInferenceOracle
    function requestCount() external view returns (uint64) {
        return _totals.requests;
    }

    // ------------------------------------------------------------------ internals

    /// @dev The model's response window and output length: cached on its first request.
    function _modelTerms(bytes32 modelId) private returns (ModelTerms memory model) {
        model = _models[modelId];
        if (model.outputLength != 0) return model;
        DisputeTerms memory dispute = registry.disputeTermsOf(modelId);
        (LayerSpec memory last, ) = registry.layerOf(modelId, dispute.numLayers);
        model = ModelTerms({responseWindow: dispute.responseWindow, outputLength: uint24(last.outDim)});
        _models[modelId] = model;
    }

    /// @dev The last time an answer is accepted: `deadline - (challengeWindow + MAX_DISPUTE_MOVES *
    /// responseWindow)`, so that an answer given by then is Final or overturned by the deadline. It must
    /// be after now: a request that could never settle is refused.
    function _fulfillBy(uint32 challengeWindow, uint32 responseWindow, uint40 deadline) private view returns (uint40) {
        uint256 settling = uint256(challengeWindow) + uint256(PolicyBounds.MAX_DISPUTE_MOVES) * responseWindow;
        uint256 earliest = block.timestamp + settling + 1;
        if (deadline < earliest) revert InferenceOracleDeadlineTooSoon(deadline, earliest);
        uint256 latest = block.timestamp + MAX_REQUEST_LIFETIME;
        if (deadline > latest) revert InferenceOracleDeadlineTooFar(deadline, latest);
        return uint40(deadline - settling);
    }

    /// @dev Checks an answer to an open request: in time, for its input, with an output of the model's
    /// length that hashes to the committed output hash.
    function _answerable(
        Request calldata r,
        Inference calldata inference,
        bytes calldata output
    ) private view returns (bytes32 requestId, RequestState storage state) {
        requestId = _requestId(r);
        state = _states[requestId];
        _expectStatus(requestId, state.status, RequestStatus.Open);
        if (block.timestamp > r.fulfillBy) revert InferenceOracleFulfillmentClosed(requestId, r.fulfillBy);
        if (inference.inputHash != r.inputHash) revert InferenceOracleInputMismatch(r.inputHash, inference.inputHash);
        if (output.length != r.outputLength) revert InferenceOracleOutputLength(r.outputLength, output.length);
        bytes32 outputHash = keccak256(output);
        if (outputHash != inference.outputHash) revert InferenceOracleOutputMismatch(inference.outputHash, outputHash);
    }

    function _fulfilled(
        RequestState storage state,
        bytes32 requestId,
        Request calldata r,
        bytes32 commitmentId,
        Fulfillment memory f,
        bytes calldata output
    ) private {
        uint8 attempts = state.attempts;
        state.status = RequestStatus.Fulfilled;
        if (attempts != type(uint8).max) state.attempts = attempts + 1;
        state.commitment = bytes20(commitmentId);
        emit RequestFulfilled(requestId, commitmentId, msg.sender, f, output);
        if (r.provisional) _callback(requestId, r, output, ResultStatus.Provisional);
    }

    /// @dev Loads a fulfilled request and checks that `f` is its live answer; returns the commitment id.
    function _live(
        Request calldata r,
        Fulfillment calldata f
    ) private view returns (bytes32 requestId, RequestState storage state, bytes32 id) {
        requestId = _requestId(r);
        state = _states[requestId];
        _expectStatus(requestId, state.status, RequestStatus.Fulfilled);
        id = _commitmentId(r, f);
        if (bytes20(id) != state.commitment) revert InferenceOracleWrongFulfillment(requestId, id);
    }

    /// @dev The ledger's status and finality of an answer, except that an instant TEE answer proven wrong
    /// after it became final counts as overturned here: it was never delivered as final, so it never is.
    function _finalityOf(bytes32 id) private view returns (CommitmentStatus status, Finality finality) {
        (status, finality) = ledger.finalityOf(id);
        if (status == CommitmentStatus.Final && finality == Finality.Tee && ledger.teeRecordOf(id).provenWrong) {
            status = CommitmentStatus.Overturned;
        }
    }

    function _expectStatus(bytes32 requestId, RequestStatus status, RequestStatus expected) private pure {
        if (status == expected) return;
        if (status == RequestStatus.None) revert InferenceOracleUnknownRequest(requestId);
        revert InferenceOracleWrongStatus(requestId, status);
    }

    function _accepted(uint8 accepts, Finality finality) private pure returns (bool) {
        return accepts & (uint8(1) << uint8(finality)) != 0;
    }

    /// @dev Calls the consumer with exactly `callbackGasLimit` gas, or reverts if that much cannot be given
    /// (a caller cannot starve the callback by sending too little gas). Its failure is recorded, its
    /// return data never copied.
    function _callback(bytes32 requestId, Request calldata r, bytes memory output, ResultStatus status) private {
        address consumer = r.consumer;
        if (consumer == address(0)) return;
        uint256 gasLimit = r.callbackGasLimit;
        bytes memory data = abi.encodeCall(IInferenceConsumer.onInferenceResult, (requestId, output, status));
        // The callee gets at most 63/64 of the gas left at the call (EIP-150).
        uint256 required = gasLimit + gasLimit / 63 + CALLBACK_GAS_MARGIN;
        uint256 available = gasleft();
        if (available < required) revert InferenceOracleInsufficientGas(available, required);
        bool delivered;
        assembly ("memory-safe") {
            delivered := call(gasLimit, consumer, 0, add(data, 0x20), mload(data), 0, 0)
        }
        emit CallbackResult(requestId, consumer, status, delivered);
    }

    function _requestId(Request calldata r) private view returns (bytes32) {
        return keccak256(abi.encode(address(this), r));
    }

    function _commitmentId(Request calldata r, Fulfillment calldata f) private pure returns (bytes32) {
        return keccak256(abi.encode(f.provider, r.modelId, f.inference, f.binding));
    }
}
