import { expect } from "chai";
import { Command } from "commander";
import { parseDaemonOptions, withDaemonOptions, type DaemonCliOptions } from "../../src/cli/daemon.js";
import { providerSettings } from "../../src/cli/commands/provide.js";
import { watchtowerSettings } from "../../src/cli/commands/watch.js";
import { FETCH_DEFAULTS } from "../../src/sdk/fetch.js";

/** Parses `args` as `verity watch` options. */
function parse(args: string[]) {
  const command = withDaemonOptions(new Command("watch").exitOverride(), "somewhere");
  command.parse(args, { from: "user" });
  return parseDaemonOptions(command.opts<DaemonCliOptions>());
}

describe("Daemon CLI options", () => {
  it("default to the fetch limits, no IPFS gateway, no private fetch and no reset", () => {
    const { fetch, resetState } = parse([]);
    expect(resetState).to.equal(false);
    expect(fetch).to.deep.equal({
      schemes: [...FETCH_DEFAULTS.schemes],
      ipfsGateway: undefined,
      maxBytes: 64 * 1024 * 1024,
      timeoutMs: 30_000,
      allowPrivate: false,
    });
  });

  it("take the gateway, the limits, the schemes, --allow-private-fetch and --reset-state", () => {
    const { fetch, resetState } = parse([
      "--ipfs-gateway",
      "http://127.0.0.1:8080/ipfs/",
      "--fetch-max-bytes",
      "1000",
      "--fetch-timeout",
      "500",
      "--fetch-schemes",
      "https, ipfs://",
      "--allow-private-fetch",
      "--reset-state",
    ]);
    expect(resetState).to.equal(true);
    expect(fetch).to.deep.equal({
      schemes: ["https", "ipfs"],
      ipfsGateway: "http://127.0.0.1:8080/ipfs/",
      maxBytes: 1000,
      timeoutMs: 500,
      allowPrivate: true,
    });
  });

  it("reject an unknown scheme, a gateway that is not an http(s) URL and a bad limit in one line", () => {
    expect(() => parse(["--fetch-schemes", "file,gopher"])).to.throw(/--fetch-schemes: unknown scheme gopher/);
    expect(() => parse(["--ipfs-gateway", "ftp://x"])).to.throw(/--ipfs-gateway: "ftp:\/\/x" is not an http\(s\) URL/);
    expect(() => parse(["--fetch-timeout", "soon"])).to.throw(/--fetch-timeout: "soon" is not a non-negative integer/);
  });

  it("reach the daemons: verity watch passes the fetch limits and --reset-state, verity provide --reset-state", () => {
    const command = withDaemonOptions(new Command("watch").exitOverride(), "somewhere");
    command.parse(
      ["--from-block", "5", "--max-range", "7", "--fetch-schemes", "https", "--fetch-max-bytes", "99", "--reset-state"],
      { from: "user" },
    );
    const options = command.opts<DaemonCliOptions>();
    // Before, both commands dropped the fetch options and --reset-state on the floor.
    expect(watchtowerSettings(options)).to.deep.equal({
      fromBlock: 5,
      maxRange: 7,
      resetState: true,
      fetch: { schemes: ["https"], ipfsGateway: undefined, maxBytes: 99, timeoutMs: 30_000, allowPrivate: false },
    });
    expect(providerSettings(options)).to.deep.equal({ fromBlock: 5, maxRange: 7, resetState: true });
  });
});
