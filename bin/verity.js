#!/usr/bin/env node
// The `verity` command. It needs the Node.js version in package.json's `engines` (Hardhat 3, which runs
// Ignition and the keystore, needs it), so when an older Node starts this file it runs itself again under
// the project's own Node, the npm `node` devDependency (node_modules/node, what node_modules/.bin/node
// links to), found from this file's location rather than the working directory. Arguments, stdio, the
// exit code and signals pass through. Either way, the project's node_modules/.bin goes first on PATH, as
// under `npx verity`, so the Hardhat processes the CLI starts run under a Node that Hardhat accepts.
// Then it registers tsx, so the TypeScript CLI (and the TypeChain bindings it imports) runs without a
// build step, and hands over to src/cli/main.ts.
// Written for any Node that can load an ES module: nothing newer than Node 14 before the version check.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), "..");
/** Set in the environment of the re-run, so that it never runs itself again. */
const REEXEC_ENV = "VERITY_REEXEC_NODE";

/** `[major, minor, patch]` of a version string such as "v20.20.2" or "22.13". */
function parseVersion(text) {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(String(text).trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : undefined;
}

function atLeast(version, minimum) {
  for (let i = 0; i < 3; i++) if (version[i] !== minimum[i]) return version[i] > minimum[i];
  return true;
}

/** The minimum Node of package.json's `engines.node` (a ">=x.y" range), or undefined. */
function requiredNode() {
  try {
    const range = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).engines?.node;
    const m = /^\s*>=\s*(v?\d+(?:\.\d+){0,2})\s*$/.exec(range ?? "");
    return m ? { range: range.trim(), minimum: parseVersion(m[1]) } : undefined;
  } catch {
    return undefined;
  }
}

/** The project's Node: the binary of the npm `node` package resolved from this file, and its version. */
function projectNode() {
  let manifest;
  try {
    manifest = createRequire(import.meta.url).resolve("node/package.json");
  } catch {
    return undefined;
  }
  try {
    const pkg = JSON.parse(readFileSync(manifest, "utf8"));
    const bin = typeof pkg.bin === "string" ? pkg.bin : (pkg.bin?.node ?? "bin/node");
    const file = path.join(path.dirname(manifest), bin);
    return existsSync(file) ? { file, version: pkg.version } : undefined;
  } catch {
    return undefined;
  }
}

/** PATH with the project's node_modules/.bin (and the directory of `node`, when given) first. */
function projectPath(nodeFile) {
  const current = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean);
  const first = [nodeFile && path.dirname(nodeFile), path.join(ROOT, "node_modules", ".bin")].filter(Boolean);
  return [...first, ...current.filter((dir) => !first.includes(dir))].join(path.delimiter);
}

function fail(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

/**
 * Whether a SIGINT/SIGQUIT this process got came from its terminal, which sends it to the whole
 * foreground process group, the child included: forwarding it would deliver it twice (and a daemon
 * exits at once on a second SIGINT). Linux: our group is the terminal's foreground group; elsewhere:
 * stdin is a terminal.
 */
function fromTerminal() {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const [pgrp, ttyNr, tpgid] = [fields[2], fields[4], fields[5]];
    return ttyNr !== "0" && tpgid === pgrp;
  } catch {
    return process.stdin.isTTY === true;
  }
}

/** Runs this file again under `node` with the same arguments and stdio, and exits as it does. */
function reexec(node) {
  const forwarded = [
    "SIGTERM",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGUSR2",
    ...(process.platform === "win32" ? ["SIGBREAK"] : []),
  ];
  const child = spawn(node.file, [...process.execArgv, SELF, ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, PATH: projectPath(node.file), [REEXEC_ENV]: node.file },
  });
  const forward = (signal) => {
    if ((signal === "SIGINT" || signal === "SIGQUIT") && fromTerminal()) return;
    try {
      child.kill(signal);
    } catch {
      // the child is gone already: its exit ends this process
    }
  };
  for (const signal of forwarded) process.on(signal, forward);
  child.on("error", (error) => {
    fail(`cannot start the project's Node.js ${node.version} (${node.file}): ${error.message}`);
  });
  child.on("exit", (code, signal) => {
    if (signal === null) process.exit(code ?? 1);
    // Die of the same signal, so that the shell sees what the child saw (exit code 128+n otherwise).
    process.exitCode = 128 + (os.constants.signals[signal] ?? 0);
    for (const s of forwarded) process.removeListener(s, forward);
    process.kill(process.pid, signal);
  });
}

const required = requiredNode();
const running = parseVersion(process.versions.node);
if (required !== undefined && !atLeast(running, required.minimum)) {
  const here = `this is Node.js ${process.version}, ${process.execPath}`;
  if (process.env[REEXEC_ENV] !== undefined) {
    fail(
      `verity needs Node.js ${required.range}, and the project's Node at ${process.env[REEXEC_ENV]} is not (${here})`,
    );
  }
  const node = projectNode();
  const version = node && parseVersion(node.version);
  if (node === undefined || version === undefined || !atLeast(version, required.minimum)) {
    const found = node === undefined ? "is not installed" : `is ${node.version}`;
    fail(
      `verity needs Node.js ${required.range} (${here}), and the project's Node (npm package "node", ` +
        `node_modules/.bin/node) ${found}: run npm install in ${ROOT}, or start verity with Node.js ${required.range}`,
    );
  }
  reexec(node);
} else {
  delete process.env[REEXEC_ENV]; // a verity that this one starts checks its own Node
  process.env.PATH = projectPath();
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli/main.ts");
}
