// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "../../utils/Test.sol";
import {InferenceOracle} from "../../../contracts/oracle/InferenceOracle.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {Inference} from "../../../contracts/types/Commitment.sol";
import {Fulfillment, Request, RequestStatus} from "../../../contracts/types/Oracle.sol";

/// @notice Plays requesters, providers, settlers and the clock against the oracle, for the tiny model (2-byte
/// input, 1-byte output). Keeps an independent model of what the oracle owes: the fee of every request not
/// yet settled or refunded, and every account's credit. A handler never reverts on its own; calls the model
/// says must succeed that revert are counted in `unexpectedReverts`.
contract OracleHandler is Test {
    InferenceOracle public immutable oracle;
    MockERC20 public immutable token;
    bytes32 public immutable modelId;
    address[] public requesters;
    address[] public providers;
    /// @notice Consumers: none, a recorder, a reverter, a gas burner.
    address[] public consumers;

    Request[] private _requests;
    mapping(bytes32 requestId => Fulfillment) private _answers;
    mapping(bytes32 requestId => bytes) private _outputs;

    /// @notice Fees of requests neither settled nor refunded (the model).
    uint256 public ghostEscrowed;
    /// @notice Credits by account (the model).
    mapping(address account => uint256) public ghostCredits;
    uint256 public unexpectedReverts;
    uint256 public requests;
    uint256 public fulfills;
    uint256 public settles;
    uint256 public refunds;
    uint256 public withdrawals;

    constructor(
        InferenceOracle oracle_,
        MockERC20 token_,
        bytes32 modelId_,
        address[] memory requesters_,
        address[] memory providers_,
        address[] memory consumers_
    ) {
        oracle = oracle_;
        token = token_;
        modelId = modelId_;
        requesters = requesters_;
        providers = providers_;
        consumers = consumers_;
    }

    /// @notice Every account the handler may credit.
    function accounts() external view returns (address[] memory all) {
        all = new address[](requesters.length + providers.length);
        for (uint256 i; i < requesters.length; ++i) all[i] = requesters[i];
        for (uint256 i; i < providers.length; ++i) all[requesters.length + i] = providers[i];
    }

    /// @notice A requester asks with a bounded fee, a consumer and a callback gas limit.
    function request(uint256 who, uint256 fee, uint256 consumerSeed, uint256 gasLimit, uint256 slack) external {
        address requester = requesters[who % requesters.length];
        fee = bound(fee, 1, 1e24);
        token.mint(requester, fee);
        address consumer = consumers[consumerSeed % consumers.length];
        // Window 1 h + 6 responses of 1 h: the deadline leaves 1 s to 2 days to answer.
        Request memory r = Request({
            modelId: modelId,
            inputHash: bytes32(0),
            requester: requester,
            consumer: consumer,
            fee: uint96(fee),
            callbackGasLimit: uint32(bound(gasLimit, 0, 200_000)),
            deadline: uint40(block.timestamp + 7 hours + bound(slack, 1, 2 days)),
            fulfillBy: 0,
            accepts: oracle.ACCEPT_ANY(),
            provisional: consumerSeed % 2 == 0,
            outputLength: 1,
            nonce: oracle.requestCount()
        });
        r.fulfillBy = r.deadline - 7 hours;
        bytes memory input = abi.encodePacked(uint8(uint256(keccak256(abi.encode(who, fee)))), uint8(requests));
        r.inputHash = keccak256(input);
        vm.startPrank(requester);
        token.approve(address(oracle), fee);
        try
            oracle.request(modelId, input, r.fee, consumer, r.callbackGasLimit, r.deadline, r.accepts, r.provisional)
        returns (bytes32 id) {
            vm.stopPrank();
            // The model's request is the oracle's: same id.
            if (id != oracle.requestIdOf(r)) ++unexpectedReverts;
            ghostEscrowed += fee;
            ++requests;
            _requests.push(r);
        } catch {
            vm.stopPrank();
            ++unexpectedReverts;
        }
    }

    /// @notice A provider answers an open request (any output: nobody disputes here).
    function fulfill(uint256 index, uint256 who, uint8 output) external {
        if (_requests.length == 0) return;
        Request memory r = _requests[index % _requests.length];
        bytes32 id = oracle.requestIdOf(r);
        if (oracle.stateOf(id).status != RequestStatus.Open || block.timestamp > r.fulfillBy) return;
        address provider = providers[who % providers.length];
        bytes memory out = abi.encodePacked(output);
        Inference memory inference = Inference(r.inputHash, keccak256(out), keccak256(abi.encode(id, output)));
        vm.prank(provider);
        try oracle.fulfill(r, inference, out) {
            _answers[id] = Fulfillment(provider, inference, id);
            _outputs[id] = out;
            ++fulfills;
        } catch {
            ++unexpectedReverts;
        }
    }

    /// @notice Anyone settles a fulfilled request whose answer is final (with enough gas for the callback).
    function settle(uint256 index) external {
        if (_requests.length == 0) return;
        Request memory r = _requests[index % _requests.length];
        bytes32 id = oracle.requestIdOf(r);
        if (oracle.stateOf(id).status != RequestStatus.Fulfilled) return;
        Fulfillment memory f = _answers[id];
        if (!oracle.ledger().isFinal(oracle.commitmentIdOf(r, f))) return;
        try oracle.settle(r, f, _outputs[id]) {
            ghostEscrowed -= r.fee;
            ghostCredits[f.provider] += r.fee;
            ++settles;
        } catch {
            ++unexpectedReverts;
        }
    }

    /// @notice Anyone refunds an open request past its deadline.
    function refund(uint256 index) external {
        if (_requests.length == 0) return;
        Request memory r = _requests[index % _requests.length];
        bytes32 id = oracle.requestIdOf(r);
        if (oracle.stateOf(id).status != RequestStatus.Open || block.timestamp <= r.deadline) return;
        try oracle.refundExpired(r) {
            ghostEscrowed -= r.fee;
            ghostCredits[r.requester] += r.fee;
            ++refunds;
        } catch {
            ++unexpectedReverts;
        }
    }

    /// @notice An account withdraws its credit.
    function withdraw(uint256 who) external {
        address account = who % 2 == 0 ? requesters[who % requesters.length] : providers[who % providers.length];
        uint256 owed = ghostCredits[account];
        if (owed == 0) return;
        uint256 before = token.balanceOf(account);
        vm.prank(account);
        try oracle.withdraw() returns (uint256 amount) {
            if (amount != owed || token.balanceOf(account) != before + owed) ++unexpectedReverts;
            ghostCredits[account] = 0;
            ++withdrawals;
        } catch {
            ++unexpectedReverts;
        }
    }

    /// @notice The clock moves up to a day.
    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 1 days));
    }
}
