// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceOracle} from "../interfaces/IInferenceOracle.sol";
import {ResultStatus} from "../types/Oracle.sol";

/// @title DigitBounty
/// @notice Example consumer: a bounty paid to whoever submits an image that a registered MNIST classifier,
/// by its final answer, reads as the chosen digit. Nobody trusts the submitter or the provider: the answer
/// is final only once no challenger could overturn it (or a TEE signed it, if the sponsor accepts that).
/// @dev The claimant pays the oracle fee; if the request expires the fee is theirs again (`withdraw`). The
/// callback does constant work (an argmax over the logits and two writes): 100,000 gas covers it.
contract DigitBounty is IInferenceConsumer, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Gas each answer's callback is given.
    uint32 public constant CALLBACK_GAS = 100_000;

    /// @notice Only the oracle calls back.
    error DigitBountyNotOracle(address caller);
    /// @notice The bounty was already won.
    error DigitBountyAlreadyWon(address winner);
    /// @notice Nothing to withdraw.
    error DigitBountyNothingOwed(address account);

    /// @notice A claim was submitted as an oracle request.
    event Claimed(bytes32 indexed requestId, address indexed claimant);
    /// @notice The final answer for a claim: the predicted digit, and whether it won the bounty.
    event Judged(bytes32 indexed requestId, address indexed claimant, uint8 predicted, bool won);
    /// @notice A claim's request expired without a final answer: its fee is owed back to the claimant.
    event Expired(bytes32 indexed requestId, address indexed claimant);

    /// @notice The oracle asked.
    IInferenceOracle public immutable oracle;
    /// @notice The oracle's fee token, also the bounty's.
    IERC20 public immutable token;
    /// @notice The classifier.
    bytes32 public immutable modelId;
    /// @notice The digit that wins.
    uint8 public immutable digit;
    /// @notice The finality kinds the sponsor accepts (oracle `accepts` bits).
    uint8 public immutable accepts;

    /// @notice A pending claim: who submitted it and the fee it paid.
    struct Claim {
        address claimant;
        uint96 fee;
    }

    /// @notice The winner, once there is one.
    address public winner;
    /// @notice Whether the winner withdrew the bounty.
    bool public paid;
    /// @notice Pending claims by request id.
    mapping(bytes32 requestId => Claim) public claims;
    /// @notice Refunded fees each claimant may withdraw.
    mapping(address account => uint256) public refunds;
    /// @notice Sum of `refunds`: not part of the bounty.
    uint256 public totalRefunds;

    constructor(IInferenceOracle oracle_, bytes32 modelId_, uint8 digit_, uint8 accepts_) {
        oracle = oracle_;
        token = oracle_.token();
        modelId = modelId_;
        digit = digit_;
        accepts = accepts_;
    }

    /// @notice Submits `image` (the model's input bytes) for judgement, paying the oracle `fee` (approve
    /// this contract for it first). The bounty is the contract's token balance when the claim wins.
    /// @return requestId The oracle request.
    function claim(
        bytes calldata image,
        uint96 fee,
        uint40 deadline
    ) external nonReentrant returns (bytes32 requestId) {
        if (winner != address(0)) revert DigitBountyAlreadyWon(winner);
        token.safeTransferFrom(msg.sender, address(this), fee);
        token.forceApprove(address(oracle), fee);
        requestId = oracle.request(modelId, image, fee, address(this), CALLBACK_GAS, deadline, accepts, false);
        claims[requestId] = Claim(msg.sender, fee);
        emit Claimed(requestId, msg.sender);
    }

    /// @inheritdoc IInferenceConsumer
    function onInferenceResult(bytes32 requestId, bytes calldata output, ResultStatus status) external {
        if (msg.sender != address(oracle)) revert DigitBountyNotOracle(msg.sender);
        Claim memory c = claims[requestId];
        if (c.claimant == address(0) || status == ResultStatus.Provisional) return;
        delete claims[requestId];
        if (status == ResultStatus.Expired) {
            // The oracle credited the fee back to this contract, the requester: it is the claimant's.
            refunds[c.claimant] += c.fee;
            totalRefunds += c.fee;
            emit Expired(requestId, c.claimant);
            return;
        }
        uint8 predicted = _argmax(output);
        bool won = predicted == digit && winner == address(0);
        if (won) winner = c.claimant;
        emit Judged(requestId, c.claimant, predicted, won);
    }

    /// @notice Sends the caller its refunded fees and, if it won, the bounty: everything the contract holds
    /// beyond the others' refunds.
    /// @return amount What was sent.
    function withdraw() external nonReentrant returns (uint256 amount) {
        // Refunded fees wait in the oracle as this contract's credit until someone withdraws them.
        if (oracle.creditOf(address(this)) != 0) oracle.withdraw();
        amount = refunds[msg.sender];
        refunds[msg.sender] = 0;
        totalRefunds -= amount;
        if (msg.sender == winner && !paid) {
            paid = true;
            amount += token.balanceOf(address(this)) - totalRefunds - amount;
        }
        if (amount == 0) revert DigitBountyNothingOwed(msg.sender);
        token.safeTransfer(msg.sender, amount);
    }

    /// @dev The predicted class: the index of the largest int8 logit, the first on ties (as the engine).
    function _argmax(bytes calldata logits) private pure returns (uint8 best) {
        int8 top = type(int8).min;
        for (uint256 i; i < logits.length; ++i) {
            int8 v = int8(uint8(logits[i]));
            if (i == 0 || v > top) {
                top = v;
                best = uint8(i);
            }
        }
    }
}
