// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Finality, Inference} from "./Commitment.sol";

/// @notice Life of an oracle request. Open: waiting for an answer. Fulfilled: a provider's commitment answers
/// it, until it is Final in an accepted way (then Settled) or overturned (then Open again, by `reopen`).
/// Refunded: it had no accepted final answer by its deadline.
enum RequestStatus {
    None,
    Open,
    Fulfilled,
    Settled,
    Refunded
}

/// @notice What a consumer's `onInferenceResult` is told. Provisional: an answer was committed and can still
/// be overturned (only to consumers that asked for it). Final: the answer can no longer be overturned, the
/// one final callback. Expired: no accepted final answer by the deadline (the output is empty), also final.
enum ResultStatus {
    None,
    Provisional,
    Final,
    Expired
}

/// @notice Everything a request is about, fixed when it is made: `requestId = keccak256(abi.encode(oracle,
/// request))`. Not stored: every call passes it again and the oracle checks its hash (as the dispute game
/// does with its params), so that a request costs one storage slot.
struct Request {
    bytes32 modelId;
    /// keccak256 of the input, which is in the `InferenceRequested` event: exactly the model's input length.
    bytes32 inputHash;
    /// Pays the fee, and is refunded and compensated.
    address requester;
    /// Receives `onInferenceResult`; zero for none.
    address consumer;
    /// Escrowed at the request; the provider's pay when it settles.
    uint96 fee;
    /// Gas the consumer's callback is called with, exactly.
    uint32 callbackGasLimit;
    /// After this time a request with no accepted final answer is refunded by anyone's call.
    uint40 deadline;
    /// Last time an answer is accepted: the deadline less the model's challenge window and its longest
    /// dispute, so that an answer given in time is Final or overturned by the deadline.
    uint40 fulfillBy;
    /// Accepted finality kinds, as bits `1 << uint8(Finality)`: ChallengeWindow 2, Tee 4, Proof 8.
    uint8 accepts;
    /// Whether the consumer also wants a provisional callback when an answer is committed.
    bool provisional;
    /// Length of the model's output in bytes (`outDim` of its last layer).
    uint24 outputLength;
    /// The oracle's request counter: the same question asked twice is two requests.
    uint64 nonce;
}

/// @notice The commitment that answers a request: its key is `CommitmentKey(provider, modelId, inference,
/// binding)`, with `binding` the request id or, TEE-signed, `keccak256(abi.encode(digest, requestId))`.
struct Fulfillment {
    address provider;
    Inference inference;
    bytes32 binding;
}

/// @notice Mutable state of a request: one storage slot (8 + 8 + 8 + 160 = 184 bits).
struct RequestState {
    RequestStatus status;
    /// Answers committed so far (saturates at 255).
    uint8 attempts;
    /// How the settled answer became final; None before.
    Finality finality;
    /// The first 20 bytes of the live answer's commitment id (zero while Open). The full id is recomputed
    /// from the fulfillment a call passes and looked up in the ledger, so this only has to single it out.
    bytes20 commitment;
}
