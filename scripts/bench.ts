/**
 * `npm run bench`: gas of every external write (tx gasUsed) and off-chain throughput.
 * Each section in scripts/bench/ runs on its own fresh in-process chain; the results are merged into
 * bench/results.json ({"gas": {...}, "offchain": {...}, ...}) and printed as a table.
 * Targets from the issues are checked here against the measured numbers (not in timed tests).
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { network } from "hardhat";
import { sections } from "./bench/sections.js";
import { describeTarget, meets, targets } from "./bench/targets.js";
import type { BenchSection } from "./bench/types.js";

const only = process.env.BENCH_ONLY?.split(",").filter(Boolean);
const merged: Required<BenchSection> = { gas: {}, offchain: {}, load: {}, derived: {} };

for (const [name, load] of Object.entries(sections)) {
  if (only !== undefined && !only.includes(name)) continue;
  const run = await load();
  const connection = await network.create();
  const started = performance.now();
  const result = await run(connection);
  for (const key of Object.keys(merged) as (keyof BenchSection)[]) Object.assign(merged[key], result[key] ?? {});
  console.log(`bench section ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await connection.close();
}

// A partial run (BENCH_ONLY) updates its own numbers and keeps the rest of the last full run.
const previous: Record<string, Record<string, number>> = only !== undefined && existsSync("bench/results.json")
  ? JSON.parse(readFileSync("bench/results.json", "utf8"))
  : {};
const results: Record<string, Record<string, number>> = {};
for (const [group, values] of Object.entries(merged)) {
  const combined = { ...(previous[group] ?? {}), ...values };
  if (Object.keys(combined).length > 0) results[group] = combined;
}
await mkdir("bench", { recursive: true });
await writeFile("bench/results.json", JSON.stringify(results, null, 2) + "\n");

const rows: { group: string; metric: string; value: number; target: string; ok: string }[] = [];
let misses = 0;
for (const [group, values] of Object.entries(results)) {
  for (const [metric, value] of Object.entries(values)) {
    const target = targets[`${group}.${metric}`];
    let ok = "";
    if (target !== undefined) {
      const pass = meets(value, target, (name) => {
        const [g, m] = name.split(".");
        return results[g]?.[m];
      });
      ok = pass ? "ok" : target.aim ? "aim missed" : "MISS";
      if (!pass && !target.aim) misses++;
    }
    const targetText = target === undefined ? "" : describeTarget(target);
    rows.push({ group, metric, value: Math.round(value * 100) / 100, target: targetText, ok });
  }
}
console.table(rows);
console.log(`wrote bench/results.json; ${misses === 0 ? "every target met" : `${misses} target(s) missed`}`);
if (misses > 0 && only === undefined) process.exitCode = 1;
