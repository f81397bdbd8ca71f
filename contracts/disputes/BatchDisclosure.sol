// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IBatchDisclosure} from "../interfaces/IBatchDisclosure.sol";
import {IInferenceLedger} from "../interfaces/IInferenceLedger.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IStakeManager} from "../interfaces/IStakeManager.sol";
import {Commitments} from "../libraries/Commitments.sol";
import {GasBounds} from "../libraries/GasBounds.sol";
import {BatchHeader} from "../types/Commitment.sol";
import {DisclosedLeaf, Disclosure, DisclosurePhase} from "../types/Dispute.sol";
import {LayerSpec} from "../types/LayerSpec.sol";
import {DisputeTerms} from "../types/Model.sol";

/// @title BatchDisclosure
/// @notice Bonded disclosure demands that force a batch's leaves and inputs on-chain (docs/protocol.md,
/// "Batch disclosure").
/// @dev Holds no tokens: the bond and the stake lock live in the stake manager (DISPUTE_ROLE there and on
/// the ledger). Per batch one `Disclosure` (three slots); the leaves themselves are only logged.
contract BatchDisclosure is IBatchDisclosure, ReentrancyGuardTransient {
    using SafeCast for uint256;

    /// @notice The model registry (input length, response window, slash, reference gas price).
    IModelRegistry public immutable registry;
    /// @notice The ledger whose batches this contract forces into the open.
    IInferenceLedger public immutable ledger;
    /// @notice The vault holding stakes and bonds.
    IStakeManager public immutable stakeManager;

    mapping(bytes32 batchId => Disclosure) private _disclosures;

    constructor(IModelRegistry registry_, IInferenceLedger ledger_, IStakeManager stakeManager_) {
        if (
            address(registry_) == address(0) || address(ledger_) == address(0) || address(stakeManager_) == address(0)
        ) {
            revert BatchDisclosureZeroAddress();
        }
        registry = registry_;
        ledger = ledger_;
        stakeManager = stakeManager_;
    }

    /// @inheritdoc IBatchDisclosure
    function demandDisclosure(BatchHeader calldata header) external nonReentrant returns (bytes32 batchId) {
        // The ledger checks the batch, its window, and that it is neither overturned, disclosed nor demanded.
        batchId = ledger.markDisclosureOpened(header);
        DisputeTerms memory terms = registry.disputeTermsOf(header.modelId);
        uint96 bond = _bond(header);
        uint16 share = stakeManager.openDisputeStake(header.provider, msg.sender, bond);
        uint48 deadline = uint48(block.timestamp) + terms.responseWindow;
        _disclosures[batchId] = Disclosure({
            demander: msg.sender,
            deadline: deadline,
            disclosed: 0,
            phase: DisclosurePhase.Open,
            bond: bond,
            slashAmount: terms.slashAmount,
            challengerShareBps: share,
            chain: bytes32(0)
        });
        emit DisclosureDemanded(batchId, msg.sender, bond, deadline);
    }

    /// @inheritdoc IBatchDisclosure
    function discloseLeaves(BatchHeader calldata header, DisclosedLeaf[] calldata leaves) external {
        (bytes32 batchId, Disclosure storage d) = _providerMove(header);
        uint256 index = d.disclosed;
        uint256 end = index + leaves.length;
        if (end > header.count) revert BatchDisclosureTooManyLeaves(batchId, end, header.count);
        (LayerSpec memory first, ) = registry.layerOf(header.modelId, 1);
        uint256 inDim = first.inDim;
        bytes32 chain = d.chain;
        for (uint256 i; i < leaves.length; ++i) {
            DisclosedLeaf calldata item = leaves[i];
            // INVARIANT: every disclosed input is exactly the model's input, so it can be re-executed as is.
            if (item.input.length != inDim)
                revert BatchDisclosureInputLengthMismatch(index + i, inDim, item.input.length);
            bytes32 inputHash = keccak256(item.input);
            if (inputHash != item.leaf.inputHash) {
                revert BatchDisclosureInputHashMismatch(index + i, item.leaf.inputHash, inputHash);
            }
            chain = Commitments.link(chain, Commitments.leafHash(item.leaf));
            emit LeafDisclosed(batchId, uint32(index + i), item.leaf, item.input);
        }
        d.disclosed = uint32(end);
        d.chain = chain;
    }

    /// @inheritdoc IBatchDisclosure
    function finishDisclosure(BatchHeader calldata header, bytes32[] calldata leafHashes) external nonReentrant {
        (bytes32 batchId, Disclosure storage d) = _providerMove(header);
        if (d.disclosed != header.count) revert BatchDisclosureIncomplete(batchId, d.disclosed, header.count);
        if (leafHashes.length != header.count) {
            revert BatchDisclosureLeafCountMismatch(batchId, leafHashes.length, header.count);
        }
        if (Commitments.chain(bytes32(0), leafHashes) != d.chain) revert BatchDisclosureChainMismatch(batchId);
        (bytes32 root, bool sorted) = Commitments.rootOfSorted(leafHashes);
        if (!sorted) revert BatchDisclosureNotSorted(batchId);
        if (root != header.root) revert BatchDisclosureRootMismatch(batchId, header.root, root);

        d.phase = DisclosurePhase.Disclosed;
        uint256 bond = d.bond;
        emit DisclosureCompleted(batchId, bond);
        ledger.markDisclosureClosed(header, true);
        stakeManager.unlockStake(header.provider);
        // The demander pays for the data it asked for: the bond covers the provider's disclosure gas.
        stakeManager.releaseBond(header.provider, bond);
    }

    /// @inheritdoc IBatchDisclosure
    function timeoutDisclosure(BatchHeader calldata header) external nonReentrant {
        bytes32 batchId = Commitments.batchId(header);
        Disclosure storage d = _disclosures[batchId];
        if (d.phase != DisclosurePhase.Open) revert BatchDisclosureNotOpen(batchId);
        if (block.timestamp <= d.deadline) revert BatchDisclosureDeadlineNotPassed(batchId, d.deadline);
        d.phase = DisclosurePhase.Failed;
        bool newlyOverturned = ledger.markDisclosureClosed(header, false);
        stakeManager.unlockStake(header.provider);
        (uint256 slashed, uint256 reward) = newlyOverturned
            ? stakeManager.slash(header.provider, d.slashAmount, d.challengerShareBps)
            : (0, 0);
        emit DisclosureFailed(batchId, slashed, reward);
        stakeManager.releaseBond(d.demander, d.bond + reward);
    }

    /// @inheritdoc IBatchDisclosure
    function disclosureOf(bytes32 batchId) external view returns (Disclosure memory) {
        return _disclosures[batchId];
    }

    /// @inheritdoc IBatchDisclosure
    function disclosureBond(BatchHeader calldata header) external view returns (uint256) {
        return _bond(header);
    }

    function _bond(BatchHeader calldata header) private view returns (uint96) {
        (LayerSpec memory first, ) = registry.layerOf(header.modelId, 1);
        return (GasBounds.disclosure(header.count, first.inDim) * registry.referenceGasPrice()).toUint96();
    }

    /// @dev An open demand, moved by the batch's provider before the deadline.
    function _providerMove(BatchHeader calldata header) private view returns (bytes32 batchId, Disclosure storage d) {
        batchId = Commitments.batchId(header);
        d = _disclosures[batchId];
        if (d.phase != DisclosurePhase.Open) revert BatchDisclosureNotOpen(batchId);
        if (msg.sender != header.provider) revert BatchDisclosureNotProvider(batchId, msg.sender);
        if (block.timestamp > d.deadline) revert BatchDisclosureDeadlinePassed(batchId, d.deadline);
    }
}
