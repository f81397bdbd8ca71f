/**
 * The gas page: an inline SVG bar chart of bench/results.json's `gas` group, built with DOM APIs, with
 * each metric's target (scripts/bench/targets.ts) drawn as a tick and a bar over its target marked.
 * Single transactions and dispute moves are one chart; the gas bounds and whole-disclosure totals
 * (millions of gas) are a second one, so that they do not flatten the first.
 */
import { h, svg } from "./dom.js";

/** Metrics above this are "large": gas bounds and whole-batch disclosures (millions of gas). */
const LARGE = 1_000_000;
const WIDTH = 960;
const LABEL = 300;
const VALUE = 110;
const ROW = 22;

const grouped = (n) =>
  Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/** One horizontal bar chart of `[metric, value, max?]` rows, scaled to the largest value or target. */
function barChart(id, title, rows) {
  const scale = Math.max(...rows.map(([, value, max]) => Math.max(value, max ?? 0)), 1);
  const plot = WIDTH - LABEL - VALUE;
  const height = rows.length * ROW + 10;
  const chart = svg("svg", {
    id,
    class: "chart",
    viewBox: `0 0 ${WIDTH} ${height}`,
    width: WIDTH,
    height,
    role: "img",
    "aria-label": title,
  });
  rows.forEach(([metric, value, max], i) => {
    const y = i * ROW + 5;
    const over = max !== undefined && value > max;
    chart.appendChild(svg("text", { x: LABEL - 8, y: y + 14, "text-anchor": "end", class: "label" }, metric));
    chart.appendChild(
      svg(
        "rect",
        {
          x: LABEL,
          y: y + 2,
          width: Math.max(1, (value / scale) * plot).toFixed(1),
          height: ROW - 6,
          class: over ? "bar over" : "bar",
          "data-metric": metric,
          "data-value": String(value),
        },
        svg(
          "title",
          {},
          `${metric}: ${grouped(value)} gas${max === undefined ? "" : ` (target at most ${grouped(max)})`}`,
        ),
      ),
    );
    if (max !== undefined) {
      const x = (LABEL + (max / scale) * plot).toFixed(1);
      chart.appendChild(svg("line", { x1: x, x2: x, y1: y, y2: y + ROW - 2, class: "target" }));
    }
    chart.appendChild(svg("text", { x: WIDTH - VALUE + 8, y: y + 14, class: "value" }, grouped(value)));
  });
  return h("figure", {}, h("figcaption", {}, title), chart);
}

/** The gas page's content from `/bench.json` (`{results, targets}` or `{error}`). */
export function gasView(bench) {
  if (bench.error !== undefined)
    return [h("h2", {}, "Gas"), h("p", { class: "empty", id: "not-found" }, String(bench.error))];
  const gas = bench.results?.gas ?? {};
  const targets = bench.targets ?? {};
  const rows = Object.entries(gas)
    .filter(([, value]) => typeof value === "number" && Number.isFinite(value) && value >= 0)
    .map(([metric, value]) => [
      metric,
      value,
      typeof targets[`gas.${metric}`]?.max === "number" ? targets[`gas.${metric}`].max : undefined,
    ]);
  const small = rows.filter(([, value]) => value <= LARGE);
  // A large metric's target stays off the small chart's scale.
  const large = rows.filter(([, value]) => value > LARGE);
  const offchain = Object.entries({ ...(bench.results?.offchain ?? {}), ...(bench.results?.load ?? {}) }).filter(
    ([, v]) => typeof v === "number",
  );
  return [
    h("h2", {}, "Gas"),
    h(
      "p",
      { class: "note" },
      `From ${String(bench.file)} (npm run bench): gas used by each transaction on the in-process chain. `,
      "A tick is the metric's target; a red bar is over it.",
    ),
    barChart("gas-chart", "Transactions and dispute moves (gas)", small),
    large.length > 0 ? barChart("gas-chart-large", "Gas bounds and whole-batch disclosures (gas)", large) : null,
    offchain.length > 0
      ? h(
          "section",
          {},
          h("h2", {}, "Off-chain and load"),
          h(
            "table",
            {},
            h(
              "tbody",
              {},
              offchain.map(([k, v]) =>
                h("tr", {}, h("td", {}, k), h("td", { class: "num" }, v >= 100 ? grouped(v) : v.toFixed(2))),
              ),
            ),
          ),
        )
      : null,
  ];
}
