// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BatchHeader, Inference} from "../types/Commitment.sol";
import {DisclosedLeaf, Disclosure} from "../types/Dispute.sol";

/// @title IBatchDisclosure
/// @notice Data availability for batches. A batch commits only `(root, count, dataURI)`; if its provider
/// never serves the leaves, nobody could build the leaf and proof a dispute needs. Anyone may therefore
/// demand, inside the batch's challenge window and with a bond, that the provider post every leaf with
/// its input on-chain within one response window, in chunks that each fit the honest-move gas bound;
/// the contract recomputes the batch root from them. Disclosed: the bond pays the provider's gas (at
/// the registry's reference gas price) and every leaf stays disputable for a full challenge window from
/// then. Not disclosed in time: the whole batch is overturned and the provider slashed; the demander
/// gets its bond back and the challengers' share of the slash.
/// @dev Moves: demandDisclosure -> discloseLeaves (one or more chunks, leaves in ascending leaf-hash
/// order) -> finishDisclosure; or timeoutDisclosure after the deadline.
interface IBatchDisclosure {
    /// @notice No disclosure demand is open on the batch.
    error BatchDisclosureNotOpen(bytes32 batchId);
    /// @notice Only the batch's provider discloses.
    error BatchDisclosureNotProvider(bytes32 batchId, address caller);
    /// @notice The disclosure deadline passed at `deadline`.
    error BatchDisclosureDeadlinePassed(bytes32 batchId, uint48 deadline);
    /// @notice The disclosure deadline, `deadline`, has not passed.
    error BatchDisclosureDeadlineNotPassed(bytes32 batchId, uint48 deadline);
    /// @notice Disclosing these leaves would exceed the batch's count.
    error BatchDisclosureTooManyLeaves(bytes32 batchId, uint256 disclosed, uint256 count);
    /// @notice Leaf `index`'s input does not have the model's input length.
    error BatchDisclosureInputLengthMismatch(uint256 index, uint256 expected, uint256 actual);
    /// @notice Leaf `index`'s input does not hash to its input hash.
    error BatchDisclosureInputHashMismatch(uint256 index, bytes32 expected, bytes32 actual);
    /// @notice `finishDisclosure` before every leaf was disclosed.
    error BatchDisclosureIncomplete(bytes32 batchId, uint256 disclosed, uint256 count);
    /// @notice `finishDisclosure` got `given` leaf hashes for a batch of `count` leaves.
    error BatchDisclosureLeafCountMismatch(bytes32 batchId, uint256 given, uint256 count);
    /// @notice The leaf hashes are not the disclosed leaves, in order.
    error BatchDisclosureChainMismatch(bytes32 batchId);
    /// @notice The disclosed leaves are not strictly ascending by hash (the tree's order, no duplicates).
    error BatchDisclosureNotSorted(bytes32 batchId);
    /// @notice The disclosed leaves do not rebuild the batch root.
    error BatchDisclosureRootMismatch(bytes32 batchId, bytes32 root, bytes32 computed);
    /// @notice A constructor argument was the zero address.
    error BatchDisclosureZeroAddress();

    /// @notice A disclosure of the batch was demanded; the provider must complete it by `deadline`.
    event DisclosureDemanded(bytes32 indexed batchId, address indexed demander, uint256 bond, uint48 deadline);
    /// @notice Leaf `index` (0-based, in disclosure order) of the batch, with its input.
    event LeafDisclosed(bytes32 indexed batchId, uint32 index, Inference leaf, bytes input);
    /// @notice Every leaf was disclosed and the root recomputed; the bond went to the provider.
    event DisclosureCompleted(bytes32 indexed batchId, uint256 compensation);
    /// @notice The provider did not disclose in time; the batch is overturned.
    event DisclosureFailed(bytes32 indexed batchId, uint256 slashed, uint256 reward);

    /// @notice Demands that the batch's provider disclose every leaf on-chain, posting the disclosure bond
    /// (`disclosureBond`; approve the stake manager first). Inside the batch's challenge window; one open
    /// demand per batch, none once disclosed.
    /// @return batchId The batch id.
    function demandDisclosure(BatchHeader calldata header) external returns (bytes32 batchId);

    /// @notice Provider: discloses the next leaves, each with its input (`inDim(1)` bytes hashing to the
    /// leaf's input hash). Leaves go in ascending order of their leaf hash.
    function discloseLeaves(BatchHeader calldata header, DisclosedLeaf[] calldata leaves) external;

    /// @notice Provider: completes the disclosure. `leafHashes` are the disclosed leaves' hashes in order;
    /// they must rebuild the batch root.
    function finishDisclosure(BatchHeader calldata header, bytes32[] calldata leafHashes) external;

    /// @notice Anyone: ends a demand the provider did not complete by its deadline; the batch is overturned.
    function timeoutDisclosure(BatchHeader calldata header) external;

    /// @notice The state of the batch's disclosure.
    function disclosureOf(bytes32 batchId) external view returns (Disclosure memory);

    /// @notice The bond a disclosure demand on this batch costs now: the gas bound of its full disclosure
    /// times the registry's reference gas price.
    function disclosureBond(BatchHeader calldata header) external view returns (uint256);
}
