/**
 * The watchtower end-to-end scenario (test/e2e/helpers/watchtower-scenario.ts) on a real `hardhat node`:
 * two providers commit 242 held-out MNIST inferences (210 single commitments and two batches of 16); the
 * cheater alters one neuron in 16 of them at known places. The watchtower runs as its own process through
 * the CLI (`verity watch`), is SIGKILLed in the middle of its scan and restarted; both providers answer
 * their games with the provider daemon. test/e2e/anvil.e2e.test.ts runs the same scenario on anvil.
 */
import { describeWatchtowerEndToEnd } from "./helpers/watchtower-scenario.js";

describeWatchtowerEndToEnd("hardhat");
