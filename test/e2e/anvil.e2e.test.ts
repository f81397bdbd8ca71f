/**
 * The watchtower end-to-end scenario (test/e2e/helpers/watchtower-scenario.ts) on anvil, a node nobody
 * here wrote: Foundry's, installed from npm as the devDependency `@foundry-rs/anvil`, started on a free
 * loopback port. Frauds proven, none against honest commitments, a SIGKILL mid-scan and a clean restart.
 */
import { execFileSync } from "node:child_process";
import { expect } from "chai";
import { anvilBinary } from "../helpers/nodes.js";
import { describeWatchtowerEndToEnd } from "./helpers/watchtower-scenario.js";

describe("anvil from npm", function () {
  it("is installed for this platform and runs", function () {
    expect(execFileSync(anvilBinary(), ["--version"], { encoding: "utf8" })).to.match(/^anvil Version: \d+\.\d+\.\d+/);
  });
});

describeWatchtowerEndToEnd("anvil");
