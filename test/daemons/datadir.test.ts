import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import { DataDir, FatalDaemonError } from "../../src/daemons/datadir.js";
import { ProviderDaemon } from "../../src/daemons/provider.js";
import { Watchtower } from "../../src/daemons/watchtower.js";
import type { Verity } from "../../src/sdk/index.js";
import { daemonSetup } from "./helpers.js";

const connection = await network.create();
const ROOT = path.resolve(import.meta.dirname, "../..");
const GENESIS = `0x${"ab".repeat(32)}`;
const LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

/** Just what `DataDir` reads of a Verity connection: the chain's id and genesis, and code at every address. */
function stubVerity(chainId = 31337n, genesis = GENESIS, ledger = LEDGER): Verity {
  const provider = {
    getNetwork: async () => ({ chainId }),
    getBlock: async () => ({ hash: genesis }),
    getCode: async () => "0x6080",
  };
  return { provider, addresses: { ledger } } as unknown as Verity;
}

/** Rejects with the error `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => expect.fail("expected a failure"),
    (e: Error) => e,
  );
}

describe("Daemon data folders", () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(path.join(os.tmpdir(), "verity-datadir-"));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it("refuses a folder a live process holds, and takes it over once that process is SIGKILLed", async function () {
    const dir = path.join(work, "wt");
    const script = `import(${JSON.stringify(path.join(ROOT, "src/daemons/datadir.ts"))}).then(async ({ DataDir }) => {
      const provider = { getNetwork: async () => ({ chainId: 31337n }), getBlock: async () => ({ hash: "${GENESIS}" }), getCode: async () => "0x60" };
      await DataDir.open({ dir: process.env.DIR, verity: { provider, addresses: { ledger: "${LEDGER}" } } });
      process.stdout.write("locked\\n");
      setInterval(() => {}, 1000);
    });`;
    const child = spawn(process.execPath, ["--import", "tsx", "-e", script], {
      cwd: ROOT,
      env: { ...process.env, DIR: dir },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (c: Buffer) => c.toString().includes("locked") && resolve());
        child.once("exit", (code) => reject(new Error(`the lock holder exited (${code})`)));
      });
      const refused = await failure(DataDir.open({ dir, verity: stubVerity() }));
      expect(refused).to.be.instanceOf(FatalDaemonError);
      expect(refused.message).to.match(new RegExp(`in use by process ${child.pid} `));
    } finally {
      child.kill("SIGKILL");
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once("exit", resolve)));
    }
    expect(existsSync(path.join(dir, "daemon.lock")), "SIGKILL left the lock file behind").to.equal(true);
    const taken = await DataDir.open({ dir, verity: stubVerity() });
    expect(JSON.parse(readFileSync(path.join(dir, "daemon.lock"), "utf8")).pid).to.equal(process.pid);
    taken.close();
    expect(existsSync(path.join(dir, "daemon.lock"))).to.equal(false);
  });

  it("takes over a stale lock (a dead pid, this process's own pid, a torn file); daemons of one process share it", async () => {
    const dir = path.join(work, "wt");
    const lock = path.join(dir, "daemon.lock");
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
    for (const content of [{ pid: dead, host: os.hostname() }, { pid: process.pid, host: os.hostname() }, "{"]) {
      (await DataDir.open({ dir, verity: stubVerity() })).close();
      writeFileSync(lock, typeof content === "string" ? content : JSON.stringify(content));
      const taken = await DataDir.open({ dir, verity: stubVerity() });
      expect(JSON.parse(readFileSync(lock, "utf8")).pid).to.equal(process.pid);
      taken.close();
    }
    const first = await DataDir.open({ dir, verity: stubVerity() });
    const second = await DataDir.open({ dir, verity: stubVerity() });
    first.close();
    expect(existsSync(lock), "released while another daemon of this process holds it").to.equal(true);
    second.close();
    expect(existsSync(lock)).to.equal(false);
  });

  it("records the chain's identity and stops on another chain id, genesis block or contract address, naming each", async () => {
    const dir = path.join(work, "wt");
    (await DataDir.open({ dir, verity: stubVerity() })).close();
    const identity = JSON.parse(readFileSync(path.join(dir, "chain.json"), "utf8"));
    expect(identity).to.deep.equal({
      chainId: "31337",
      genesisHash: GENESIS,
      contracts: { ledger: LEDGER.toLowerCase() },
    });
    const other = `0x${"cd".repeat(32)}`;
    const cases: [Verity, RegExp][] = [
      [stubVerity(1n), /chain id 31337 recorded, 1 now/],
      [stubVerity(31337n, other), new RegExp(`genesis block ${GENESIS} recorded, ${other} now`)],
      [stubVerity(31337n, GENESIS, `0x${"11".repeat(20)}`), /ledger 0x5fbdb.* recorded, 0x1111.* now/],
    ];
    for (const [verity, difference] of cases) {
      const error = await failure(DataDir.open({ dir, verity }));
      expect(error).to.be.instanceOf(FatalDaemonError);
      expect(error.message).to.match(difference);
      expect(error.message).to.match(/belongs to another chain or deployment .*--reset-state/);
      expect(error.message).to.not.include("\n");
    }
  });

  it("recheck stops when the node serves another chain or lost the code, and ignores a node that is down", async () => {
    const dir = path.join(work, "wt");
    const verity = stubVerity();
    const provider = verity.provider as unknown as Record<string, () => Promise<unknown>>;
    const folder = await DataDir.open({ dir, verity });
    try {
      await folder.recheck();
      provider.getCode = async () => {
        throw new Error("ECONNREFUSED");
      };
      await folder.recheck(); // down is not gone
      provider.getCode = async () => "0x";
      expect((await failure(folder.recheck())).message).to.match(
        /^no contract code at ledger 0x5FbDB.*: the deployment is gone/,
      );
      provider.getCode = async () => "0x6080";
      provider.getBlock = async () => ({ hash: `0x${"ef".repeat(32)}` });
      const moved = await failure(folder.recheck());
      expect(moved).to.be.instanceOf(FatalDaemonError);
      expect(moved.message).to.match(
        /^the node no longer serves the chain of .* \(genesis block 0xabab.* recorded, 0xefef.* now\); stopping$/,
      );
    } finally {
      folder.close();
    }
  });

  it("with resetState, moves the old state aside (kept, not deleted) and starts over", async () => {
    const dir = path.join(work, "wt");
    (await DataDir.open({ dir, verity: stubVerity() })).close();
    writeFileSync(path.join(dir, "state.json"), '{"cursor": 99}');
    const lines: string[] = [];
    (await DataDir.open({ dir, verity: stubVerity(5n), resetState: true, log: (l) => lines.push(l) })).close();
    const [aside] = readdirSync(dir).filter((n) => n.startsWith("reset-"));
    expect(readFileSync(path.join(dir, aside, "state.json"), "utf8")).to.equal('{"cursor": 99}');
    expect(JSON.parse(readFileSync(path.join(dir, aside, "chain.json"), "utf8")).chainId).to.equal("31337");
    expect(existsSync(path.join(dir, "state.json"))).to.equal(false);
    expect(JSON.parse(readFileSync(path.join(dir, "chain.json"), "utf8")).chainId).to.equal("5");
    expect(lines).to.deep.equal([`state reset: the previous state is in ${path.join(dir, aside)}`]);
  });

  it("a file given as the data folder is one clear error, not EEXIST", async () => {
    const file = path.join(work, "not-a-folder");
    writeFileSync(file, "x");
    for (const dir of [file, path.join(file, "below")]) {
      const error = await failure(DataDir.open({ dir, verity: stubVerity() }));
      expect(error).to.be.instanceOf(FatalDaemonError);
      expect(error.message).to.equal(`the data folder ${dir} is not a folder (a file has that name)`);
    }
  });

  it("the watchtower and the provider daemon stop on a file as data folder and on a cursor past the chain head", async () => {
    const { watcherVerity, challenger, provider } = await daemonSetup(connection);
    const file = path.join(work, "file");
    writeFileSync(file, "x");
    const onFile = await failure(new Watchtower({ verity: watcherVerity, challenger, dataDir: file }).init());
    expect(onFile.message).to.match(/is not a folder/);

    const head = await watcherVerity.provider.getBlockNumber();
    const wtDir = path.join(work, "wt");
    const pdDir = path.join(work, "pd");
    const watchtower = new Watchtower({ verity: watcherVerity, challenger, dataDir: wtDir });
    await watchtower.init();
    watchtower.close();
    const daemon = new ProviderDaemon({ agent: provider, dataDir: pdDir });
    await daemon.init();
    daemon.close();
    for (const file of [path.join(wtDir, "state.json"), path.join(pdDir, "provider-state.json")]) {
      const state = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : { games: {}, stats: {} };
      writeFileSync(file, JSON.stringify({ ...state, cursor: head + 1000 }));
    }
    for (const init of [
      () => new Watchtower({ verity: watcherVerity, challenger, dataDir: wtDir }).init(),
      () => new ProviderDaemon({ agent: provider, dataDir: pdDir }).init(),
    ]) {
      const error = await failure(init());
      expect(error).to.be.instanceOf(FatalDaemonError);
      expect(error.message).to.match(new RegExp(`scanned to block ${head + 1000} but the chain head is ${head}`));
    }
    // The lock is released on the way out: a reset then starts over.
    const reset = new Watchtower({ verity: watcherVerity, challenger, dataDir: wtDir, resetState: true });
    await reset.init();
    expect(reset.snapshot().cursor).to.equal(-1);
    reset.close();
  });
});
