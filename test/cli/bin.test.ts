import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";

/**
 * `bin/verity.js` started by whichever Node a user has: the system Node (older than package.json's
 * engines, so it runs itself again under the project's Node 24) and the project's Node 24, both with a
 * PATH that does not have node_modules/.bin on it, as in a plain shell.
 */

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "verity.js");
const SYSTEM_NODE = "/usr/bin/node";
const PROJECT_NODE = path.join(ROOT, "node_modules", "node", "bin", "node");
const REQUIRED: string = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).engines.node;
const ANY_ADDRESS = "0x0000000000000000000000000000000000000001";

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function version(node: string): [number, number, number] | undefined {
  if (!existsSync(node)) return undefined;
  const out = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim();
  const m = /^v(\d+)\.(\d+)\.(\d+)/.exec(out);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Whether `node` is older than the engines range (">=x.y"). */
function olderThanEngines(node: string): boolean {
  const v = version(node);
  const min = /^>=\s*(\d+)(?:\.(\d+))?/.exec(REQUIRED);
  if (v === undefined || min === null) return false;
  const [major, minor] = [Number(min[1]), Number(min[2] ?? 0)];
  return v[0] < major || (v[0] === major && v[1] < minor);
}

/** The environment of a plain shell: no node_modules/.bin on PATH, no keystore, no Verity settings. */
function plainEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CONFIG_HOME: home, XDG_DATA_HOME: home };
  for (const name of Object.keys(env)) if (name.startsWith("VERITY_") || name.startsWith("npm_")) delete env[name];
  env.PATH = (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => !dir.split(path.sep).includes("node_modules"))
    .join(path.delimiter);
  return env;
}

function runWith(
  node: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  onStart?: (pid: number) => void,
  script = BIN,
): Promise<Result> {
  return new Promise((resolve, reject) => {
    // Its own process group, so that it is never the terminal's foreground group when the tests run in one.
    const child = spawn(node, [script, ...args], {
      cwd: os.tmpdir(),
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (child.pid !== undefined) onStart?.(child.pid);
  });
}

/** A JSON-RPC endpoint that answers eth_chainId (31337), or holds every request open when `hang`. */
async function fakeNode(hang: boolean) {
  const sockets = new Set<net.Socket>();
  const requests: http.IncomingMessage[] = [];
  let arrived: () => void = () => {};
  const firstRequest = new Promise<void>((r) => (arrived = r));
  const server = http.createServer((req, res) => {
    requests.push(req);
    arrived();
    if (hang) return;
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const answer = (r: { id: number; method: string }) => ({
        jsonrpc: "2.0",
        id: r.id,
        result: r.method === "eth_chainId" ? "0x7a69" : null,
      });
      const parsed = JSON.parse(body);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(Array.isArray(parsed) ? parsed.map(answer) : answer(parsed)));
    });
  });
  server.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    firstRequest,
    requests,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function oneLine(text: string): string[] {
  return text.split("\n").filter((l) => l.length > 0);
}

describe("bin/verity.js under the system Node and the project's Node", function () {
  let home: string;
  let rpc: Awaited<ReturnType<typeof fakeNode>>;

  before(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), "verity-bin-"));
    rpc = await fakeNode(false);
  });
  after(async () => {
    await rpc.close();
    rmSync(home, { recursive: true, force: true });
  });

  const nodes = [
    { name: `the system Node (${SYSTEM_NODE}, older than ${REQUIRED})`, file: SYSTEM_NODE, mustBeOld: true },
    { name: "the project's Node (node_modules/node)", file: PROJECT_NODE, mustBeOld: false },
  ];
  for (const node of nodes) {
    describe(node.name, function () {
      before(function () {
        if (!existsSync(node.file)) this.skip();
        if (node.mustBeOld && !olderThanEngines(node.file)) this.skip();
      });

      it("--help prints the usage and exits 0, with nothing on stderr", async () => {
        const r = await runWith(node.file, ["--help"], plainEnv(home));
        expect(r.stderr).to.equal("");
        expect(r.stdout).to.match(/^Usage: verity /);
        expect(r.code).to.equal(0);
      });

      it("--keystore runs Hardhat's keystore under a Node it accepts: the keystore's own one-line error", async () => {
        const r = await runWith(
          node.file,
          ["--rpc", rpc.url, "--keystore", "nosuch", "token", "mint", ANY_ADDRESS, "1"],
          plainEnv(home),
        );
        expect(r.stderr).to.not.match(/upgrade|EBADENGINE|Unsupported engine/i);
        expect(oneLine(r.stderr)).to.have.length(1);
        expect(r.stderr).to.match(
          /^error: cannot read a private key named nosuch from the Hardhat keystore: .*keystore/,
        );
        expect(r.stdout).to.equal("");
        expect(r.code).to.equal(1);
      });
    });
  }

  describe("re-running under the project's Node", function () {
    before(function () {
      if (!olderThanEngines(SYSTEM_NODE) || !existsSync(PROJECT_NODE)) this.skip();
    });

    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      it(`forwards ${signal} to the re-run CLI and dies of it too`, async () => {
        const hung = await fakeNode(true);
        try {
          let killedAt = 0;
          const r = await runWith(SYSTEM_NODE, ["--rpc", hung.url, "stake", "show"], plainEnv(home), (pid) => {
            void hung.firstRequest.then(() => {
              killedAt = Date.now();
              process.kill(pid, signal);
            });
          });
          expect(r.signal, r.stderr).to.equal(signal);
          // The CLI itself (the child) got the signal: its request to the node closed at once, not after
          // the CLI's own 5 s timeout.
          const request = hung.requests[0];
          if (!request.socket.destroyed) await new Promise((res) => request.socket.once("close", res));
          expect(Date.now() - killedAt).to.be.below(2_000);
        } finally {
          await hung.close();
        }
      });
    }

    it("says in one line when the project has no Node of its own", async () => {
      // bin/verity.js and package.json alone, where no node_modules/node can be resolved.
      const bare = mkdtempSync(path.join(os.tmpdir(), "verity-bare-"));
      try {
        mkdirSync(path.join(bare, "bin"));
        copyFileSync(BIN, path.join(bare, "bin", "verity.js"));
        copyFileSync(path.join(ROOT, "package.json"), path.join(bare, "package.json"));
        const r = await runWith(
          SYSTEM_NODE,
          ["--help"],
          plainEnv(home),
          undefined,
          path.join(bare, "bin", "verity.js"),
        );
        expect(oneLine(r.stderr)).to.have.length(1);
        expect(r.stderr).to.match(
          new RegExp(
            `^error: verity needs Node\\.js ${REQUIRED} \\(this is Node\\.js v\\d+.*\\), and the project's Node .* is not installed: run npm install in `,
          ),
        );
        expect(r.stdout).to.equal("");
        expect(r.code).to.equal(1);
      } finally {
        rmSync(bare, { recursive: true, force: true });
      }
    });
  });
});

describe("scripts/build-progress.ts (the build step of npm run demo)", function () {
  it("on a built project: Hardhat's cache compiles nothing, and there is no first-build notice", async () => {
    const tsx = path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
    const script = path.join(ROOT, "scripts", "build-progress.ts");
    const r = await runWith(process.execPath, [script, "--no-tests"], { ...process.env }, undefined, tsx);
    expect(r.stdout).to.include("No contracts to compile");
    expect(r.stderr).to.not.include("first build");
    expect(r.code).to.equal(0);
  });
});
