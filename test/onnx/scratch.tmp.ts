import { mnist, trainMlp, ortRun, agreement, maxAbsDiff } from "./helpers.js";
import { exportOnnx, importOnnx, evaluate, runInt8, dequantize } from "../../src/sdk/onnx/index.js";
import { argmax, quantizeInput, readModelFile } from "../../src/engine/index.js";
let t = performance.now();
const lap = (s: string) => {
  const n = performance.now();
  console.log(s, (n - t).toFixed(0), "ms");
  t = n;
};
const { train, test } = mnist();
lap("mnist");
const mlp = trainMlp([784, 32, 10], train.slice(0, 3000), 3, 7);
lap("train");
const bytes = exportOnnx(mlp);
lap("export " + bytes.length);
const calib = train.slice(0, 500).map((d) => d.pixels);
const r = importOnnx(bytes, calib);
lap("import " + r.percentile + " " + r.calibrationAgreement);
const fl = test.map((d) => evaluate(r.float, d.pixels));
lap("float eval");
const o = await ortRun(
  bytes,
  "input",
  test.map((d) => d.pixels),
  [784],
  ["logits"],
);
lap("ort");
console.log("maxdiff", maxAbsDiff(fl, o.logits), "maxlogit", Math.max(...fl.map((v) => Math.max(...v.map(Math.abs)))));
const q = test.map((d) => runInt8(r.model, quantizeInput(d.pixels, r.inputScale)));
console.log("agree", agreement(fl, q));
const acc = (rows: ArrayLike<number>[]) => rows.filter((v, i) => argmax(v) === test[i].label).length / rows.length;
console.log("acc float", acc(fl), "int8", acc(q));
lap("int8");
const shipped = await readModelFile("models/mnist-784-128-64-10.json");
const twin = dequantize(shipped, 127);
const tb = exportOnnx(twin);
const r2 = importOnnx(tb, calib);
lap("twin import " + r2.percentile);
const f2 = test.map((d) => evaluate(r2.float, d.pixels));
const o2 = await ortRun(
  tb,
  "input",
  test.map((d) => d.pixels),
  [784],
  ["logits"],
);
console.log(
  "twin maxdiff",
  maxAbsDiff(f2, o2.logits),
  "maxlogit",
  Math.max(...f2.map((v) => Math.max(...v.map(Math.abs)))),
);
const q2 = test.map((d) => runInt8(r2.model, quantizeInput(d.pixels, r2.inputScale)));
const qs = test.map((d) => runInt8(shipped, quantizeInput(d.pixels, 127)));
console.log(
  "twin acc float",
  acc(f2),
  "imported int8",
  acc(q2),
  "shipped",
  acc(qs),
  "agree(imported, twin float)",
  agreement(f2, q2),
);
lap("twin");
