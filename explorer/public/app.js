/**
 * The explorer page: hash routes over one deployment, read-only.
 *   #/                  models, providers, recent commitments and batches, live and recent disputes
 *   #/commitment/<id>   a commitment or batch: status and how it became final, record, TEE record, event, disputes
 *   #/dispute/<id>      a game: phase, deadline countdown, moves; once resolved, the fraud proof and who was paid
 *   #/model/<id>        a model version and its policy
 *   #/gas               the gas of every protocol write (bench/results.json)
 * Everything read from the chain is put in the page as text (dom.js).
 */
import { getBytes, keccak256 } from "/vendor/ethers.js";
import { Chain } from "./chain.js";
import { gasView } from "./chart.js";
import { append, badge, fields, formatTime, h, hex, link, replace, table } from "./dom.js";
import {
  MODEL_STATUS,
  OUTCOME,
  PHASE,
  RECORD_FLAGS,
  RECORD_KIND,
  STRUCTURAL_NEURON,
  TEE_MODE,
  flagNames,
  formatDuration,
  isBytes32,
  nameOf,
  partyToMove,
  statusText,
} from "./protocol.js";

const COMMIT_EVENTS = ["InferenceCommitted", "BatchCommitted", "TeeInferenceCommitted", "TeeBatchCommitted"];
const DISPUTE_EVENTS = [
  "DisputeOpened",
  "InputRevealed",
  "DisputeContinued",
  "TraceRevealed",
  "LayerSelected",
  "LayerRevealed",
  "FraudProven",
  "DisputeResolved",
  "RewardPaid",
];
/** Most commitments and batches the overview lists (newest first). */
const RECENT_COMMITMENTS = 50;
/** Most resolved disputes the overview lists. */
const RECENT_RESOLVED = 20;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

let chain;
let renderCount = 0;

// ---------------------------------------------------------------------------------------------------------
// Shared pieces

/** A countdown to a chain time, kept current by `tick` (text only; the deadline is a number). */
function countdown(deadline) {
  const span = h("span", { class: "countdown", "data-deadline": String(Number(deadline)) });
  updateCountdown(span);
  return span;
}

function updateCountdown(span) {
  const left = Number(span.getAttribute("data-deadline")) - chain.now();
  span.textContent = left > 0 ? `${formatDuration(left)} left` : `passed ${formatDuration(-left)} ago`;
  span.classList.toggle("expired", left <= 0);
}

function tick() {
  if (chain !== undefined) document.querySelectorAll("span.countdown").forEach(updateCountdown);
}

/** What a single commitment's `inputData` is: the input itself (hashes to the input hash) or a URI. */
function inputDataText(inputData, inputHash) {
  const bytes = getBytes(inputData);
  if (bytes.length > 0 && keccak256(bytes) === inputHash) return `the input itself (${bytes.length} bytes, public)`;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return `${bytes.length} bytes that are not UTF-8`;
  }
}

function statusBadge(status, finality) {
  const text = statusText(status, finality);
  return badge(text, text.split(" ")[0]);
}

function section(title, ...children) {
  return h("section", {}, h("h2", {}, title), children);
}

function scannedNote() {
  const { from, to } = chain.window();
  return h(
    "p",
    { class: "note" },
    `Events from blocks ${from} to ${to} (the deployment's first block, or the last ${chain.config.maxBlocks} blocks).`,
  );
}

function eventKind(e) {
  const batch = e.name === "BatchCommitted" || e.name === "TeeBatchCommitted";
  const tee = e.name.startsWith("Tee");
  return `${batch ? "batch" : "single"}${tee ? " (TEE)" : ""}`;
}

function commitmentIdOf(e) {
  return e.args.id ?? e.args.batchId;
}

/** A dispute's opening params from its DisputeOpened event. */
function paramsOf(opened) {
  return opened.args.params;
}

// ---------------------------------------------------------------------------------------------------------
// Overview

async function overview() {
  const [registered, stakeEvents, commitments, opened] = await Promise.all([
    chain.events(chain.registry, ["ModelRegistered"]),
    chain.events(chain.stake, ["StakeDeposited", "StakeSlashed"]),
    chain.events(chain.ledger, COMMIT_EVENTS, [], { limit: RECENT_COMMITMENTS }),
    chain.events(chain.game, ["DisputeOpened"]),
  ]);
  const models = await Promise.all(registered.map((e) => chain.registry.getModel(e.args.modelId)));
  const providers = new Set(stakeEvents.filter((e) => e.name === "StakeDeposited").map((e) => e.args.provider));
  for (const e of commitments) providers.add(e.args.provider);
  const providerList = [...providers];
  const slashedOf = new Map();
  for (const e of stakeEvents.filter((x) => x.name === "StakeSlashed")) {
    slashedOf.set(e.args.provider, (slashedOf.get(e.args.provider) ?? 0n) + e.args.slashed);
  }
  const [stakes, finality, games] = await Promise.all([
    Promise.all(providerList.map((p) => chain.stake.stakeOf(p))),
    Promise.all(commitments.map((e) => chain.ledger.finalityOf(commitmentIdOf(e)))),
    Promise.all(opened.map((e) => chain.game.gameOf(e.args.disputeId))),
  ]);

  const modelRows = registered.map((e, i) => {
    const m = models[i];
    const p = m.policy;
    const tee = nameOf(TEE_MODE, p.teeMode);
    return {
      attributes: { "data-model": String(e.args.modelId).toLowerCase() },
      cells: [
        link("model", e.args.modelId),
        `v${m.version}`,
        hex(m.publisher),
        badge(nameOf(MODEL_STATUS, m.status), nameOf(MODEL_STATUS, m.status) === "Active" ? "Final" : "Overturned"),
        `${formatDuration(p.challengeWindow)} / ${formatDuration(p.responseWindow)}`,
        chain.amount(p.minStake),
        `${chain.amount(p.slashAmount)} / ${chain.amount(p.challengerBond)}`,
        tee === "None" ? "no" : `${tee}, ${formatDuration(p.teeWindow)}`,
        String(m.maxBatchLeaves),
        h("span", { class: "uri" }, m.metadataURI),
      ],
    };
  });
  const providerRows = providerList.map((p, i) => ({
    attributes: { "data-provider": p.toLowerCase() },
    cells: [
      hex(p),
      chain.amount(stakes[i].active),
      stakes[i].unbonding > 0n
        ? `${chain.amount(stakes[i].unbonding)} until ${formatTime(stakes[i].unbondingReadyAt)}`
        : "none",
      String(stakes[i].openDisputes),
      chain.amount(slashedOf.get(p) ?? 0n),
    ],
  }));
  const commitmentRows = [...commitments].reverse().map((e) => {
    const i = commitments.indexOf(e);
    const id = commitmentIdOf(e);
    const batch = e.args.batchId !== undefined;
    return {
      attributes: { "data-commitment": String(id).toLowerCase() },
      cells: [
        link("commitment", id),
        eventKind(e),
        statusBadge(finality[i].status, finality[i].finality),
        link("model", e.args.modelId),
        hex(e.args.provider),
        String(e.blockNumber),
        batch
          ? [`${e.args.count} leaves, data at `, h("span", { class: "uri" }, e.args.dataURI)]
          : h("span", { class: "uri" }, inputDataText(e.args.inputData, (e.args.inference ?? e.args).inputHash)),
      ],
    };
  });
  const disputes = opened.map((e, i) => ({ e, game: games[i], params: paramsOf(e) }));
  const live = disputes.filter((d) => nameOf(PHASE, d.game.phase) !== "Resolved").reverse();
  const resolved = disputes
    .filter((d) => nameOf(PHASE, d.game.phase) === "Resolved")
    .reverse()
    .slice(0, RECENT_RESOLVED);

  return [
    scannedNote(),
    section(
      "Models",
      table(
        [
          "model",
          "version",
          "publisher",
          "status",
          "challenge / response window",
          "min stake",
          "slash / bond",
          "TEE",
          "max batch",
          "metadata URI",
        ],
        modelRows,
        "No model registered in these blocks.",
        { id: "models" },
      ),
    ),
    section(
      "Providers",
      table(
        ["provider", "active stake", "unbonding", "open disputes", "slashed"],
        providerRows,
        "No provider staked in these blocks.",
        {
          id: "providers",
        },
      ),
    ),
    section(
      "Live disputes",
      table(
        ["dispute", "target", "phase", "to move", "deadline", "provider", "challenger"],
        live.map((d) => ({
          attributes: { "data-dispute": String(d.e.args.disputeId).toLowerCase() },
          cells: [
            link("dispute", d.e.args.disputeId),
            [link("commitment", d.params.target), d.params.isLeaf ? " (batch leaf)" : ""],
            nameOf(PHASE, d.game.phase),
            partyToMove(d.game.phase),
            countdown(d.game.deadline),
            hex(d.params.provider),
            hex(d.params.challenger),
          ],
        })),
        "No dispute is open.",
        { id: "live-disputes" },
      ),
    ),
    section(
      `Recent commitments and batches (newest ${RECENT_COMMITMENTS})`,
      table(
        ["id", "kind", "status", "model", "provider", "block", "input / data"],
        commitmentRows,
        "No commitment in these blocks.",
        { id: "commitments" },
      ),
    ),
    section(
      "Resolved disputes",
      table(
        ["dispute", "target", "outcome", "disputed layer"],
        resolved.map((d) => ({
          attributes: { "data-dispute": String(d.e.args.disputeId).toLowerCase() },
          cells: [
            link("dispute", d.e.args.disputeId),
            [link("commitment", d.params.target), d.params.isLeaf ? " (batch leaf)" : ""],
            badge(nameOf(OUTCOME, d.game.outcome), nameOf(OUTCOME, d.game.outcome)),
            Number(d.game.layer) > 0 ? String(d.game.layer) : "",
          ],
        })),
        "No dispute resolved in these blocks.",
        { id: "resolved-disputes" },
      ),
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// One commitment or batch

async function commitmentView(id) {
  const [record, fin] = await Promise.all([chain.ledger.recordOf(id), chain.ledger.finalityOf(id)]);
  const kind = nameOf(RECORD_KIND, record.kind);
  if (kind === "None") return notFound(`No commitment or batch with id ${id} on this deployment.`);
  const flags = Number(record.flags);
  const isTee = (flags & RECORD_FLAGS.TEE) !== 0;
  const [tee, events, opened] = await Promise.all([
    isTee ? chain.ledger.teeRecordOf(id) : undefined,
    chain.events(chain.ledger, COMMIT_EVENTS, [id], { limit: 1 }),
    chain.events(chain.game, ["DisputeOpened"], [null, id]),
  ]);
  const games = await Promise.all(opened.map((e) => chain.game.gameOf(e.args.disputeId)));
  const event = events.at(-1);
  const deadline = Number(record.challengeDeadline);
  const eventFields =
    event === undefined
      ? [["event", "not found in the scanned blocks"]]
      : event.args.batchId !== undefined
        ? [
            ["model", link("model", event.args.modelId, event.args.modelId)],
            ["block", `${event.blockNumber} (transaction ${event.transactionHash})`],
            ["Merkle root", h("span", { class: "mono" }, event.args.root)],
            ["leaves", String(event.args.count)],
            ["data URI", h("span", { class: "uri", "data-field": "dataURI" }, event.args.dataURI)],
            ...(isTee ? [["binding", h("span", { class: "mono" }, event.args.binding)]] : []),
          ]
        : [
            ["model", link("model", event.args.modelId, event.args.modelId)],
            ["block", `${event.blockNumber} (transaction ${event.transactionHash})`],
            ...["inputHash", "outputHash", "traceRoot"].map((k) => [
              k,
              h("span", { class: "mono" }, (event.args.inference ?? event.args)[k]),
            ]),
            [
              "input data",
              h(
                "span",
                { class: "uri", "data-field": "inputData" },
                inputDataText(event.args.inputData, (event.args.inference ?? event.args).inputHash),
              ),
            ],
            ...(isTee ? [["binding", h("span", { class: "mono" }, event.args.binding)]] : []),
          ];
  const teeFields =
    tee === undefined
      ? []
      : [
          ["enclave key", h("span", { class: "mono" }, tee.enclaveKey)],
          ["environment", h("span", { class: "mono" }, tee.environment)],
          [
            "TEE mode",
            nameOf(TEE_MODE, tee.mode) === "Instant"
              ? `Instant (final at once), accountable until ${formatTime(tee.teeDeadline)}`
              : `Window, until ${formatTime(tee.teeDeadline)} (full window until ${formatTime(tee.fallbackDeadline)} if trust is lost)`,
          ],
          [
            "trust lost",
            Number(tee.trustLostAt) === 0 ? "never (key and environment trusted)" : formatTime(tee.trustLostAt),
          ],
          ["proven wrong", tee.provenWrong ? "yes" : "no"],
          ["data withheld", tee.withheld ? "yes" : "no"],
        ];
  return [
    h("h2", {}, `${kind === "Batch" ? "Batch" : "Commitment"} `, h("span", { class: "mono" }, id)),
    fields([
      ["status", h("span", { id: "status" }, statusBadge(fin.status, fin.finality))],
      ["provider", h("span", { class: "mono" }, record.provider)],
      [
        "challenge window",
        deadline > chain.now()
          ? [`until ${formatTime(deadline)}, `, countdown(deadline)]
          : `closed at ${formatTime(deadline)}`,
      ],
      ["open disputes", String(record.openDisputes)],
      ["flags", flagNames(flags).join(", ") || "none"],
      ...eventFields,
    ]),
    isTee ? section("TEE record", fields(teeFields)) : null,
    section(
      "Disputes",
      table(
        ["dispute", "leaf", "phase", "outcome", "challenger"],
        opened.map((e, i) => [
          link("dispute", e.args.disputeId),
          paramsOf(e).isLeaf ? hex(paramsOf(e).inference.outputHash) : "",
          nameOf(PHASE, games[i].phase),
          nameOf(OUTCOME, games[i].outcome),
          hex(paramsOf(e).challenger),
        ]),
        "No dispute was opened on it in the scanned blocks.",
        { id: "disputes" },
      ),
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// One dispute game

function moveText(e, params) {
  const a = e.args;
  switch (e.name) {
    case "DisputeOpened":
      return `opened with a bond of ${chain.amount(params.bond)}${nameOf(PHASE, a.phase) === "AwaitingInput" ? ", demanding the input" : ""}`;
    case "InputRevealed":
      return `revealed the input (${getBytes(a.input).length} bytes)`;
    case "DisputeContinued":
      return "re-executed the revealed input and went on";
    case "TraceRevealed":
      return `revealed the trace: ${a.layerHashes.length} layer hashes`;
    case "LayerSelected":
      return `disputes layer ${a.layer}`;
    case "LayerRevealed":
      return `revealed layer ${a.layer}'s activation (${getBytes(a.activation).length} bytes)`;
    case "FraudProven":
      return Number(a.neuron) === STRUCTURAL_NEURON
        ? `proved structural fraud at layer ${a.layer}`
        : `proved neuron ${a.neuron} of layer ${a.layer} wrong: expected ${a.expected}, claimed ${a.claimed}`;
    case "DisputeResolved":
      return `resolved: ${nameOf(OUTCOME, a.outcome)}${a.slashed > 0n ? `, ${chain.amount(a.slashed)} slashed` : ""}`;
    case "RewardPaid":
      return `paid ${chain.amount(a.amount)} to ${a.challenger}`;
    default:
      return e.name;
  }
}

const MOVER = {
  DisputeOpened: "challenger",
  InputRevealed: "provider",
  DisputeContinued: "challenger",
  TraceRevealed: "provider",
  LayerSelected: "challenger",
  LayerRevealed: "provider",
  FraudProven: "challenger",
  DisputeResolved: "",
  RewardPaid: "",
};

async function disputeView(id) {
  const game = await chain.game.gameOf(id);
  const phase = nameOf(PHASE, game.phase);
  if (phase === "None") return notFound(`No dispute with id ${id} on this deployment.`);
  const events = await chain.events(chain.game, DISPUTE_EVENTS, [id]);
  const opened = events.find((e) => e.name === "DisputeOpened");
  const params = opened === undefined ? undefined : paramsOf(opened);
  const times = await Promise.all(events.map((e) => chain.blockTime(e.blockNumber)));
  const resolved = phase === "Resolved";
  const outcome = nameOf(OUTCOME, game.outcome);

  const summary = fields([
    ["phase", h("span", { id: "phase" }, phase)],
    ["outcome", resolved ? badge(outcome, outcome) : undefined],
    ["to move", resolved ? undefined : partyToMove(game.phase)],
    ["deadline", resolved ? undefined : [`${formatTime(game.deadline)}, `, countdown(game.deadline)]],
    [
      "target",
      params === undefined
        ? "(opening not in the scanned blocks)"
        : [link("commitment", params.target, params.target), params.isLeaf ? " (batch leaf)" : ""],
    ],
    ["model", params === undefined ? undefined : link("model", params.modelId, params.modelId)],
    ["provider", params === undefined ? undefined : h("span", { class: "mono" }, params.provider)],
    ["challenger", params === undefined ? undefined : h("span", { class: "mono" }, params.challenger)],
    [
      "bond / slash",
      params === undefined ? undefined : `${chain.amount(params.bond)} / ${chain.amount(params.slashAmount)}`,
    ],
    ["response window", params === undefined ? undefined : formatDuration(params.responseWindow)],
    ["layers", params === undefined ? undefined : String(params.numLayers)],
    ["disputed layer", Number(game.layer) > 0 ? String(game.layer) : undefined],
  ]);

  const moves = table(
    ["block", "time", "by", "move"],
    events.map((e, i) => ({
      attributes: { "data-event": e.name },
      cells: [String(e.blockNumber), formatTime(times[i]), MOVER[e.name] ?? "", moveText(e, params)],
    })),
    "No move found in the scanned blocks.",
    { id: "moves" },
  );

  return [
    h("h2", {}, "Dispute ", h("span", { class: "mono" }, id)),
    summary,
    section("Moves so far", moves),
    resolved && params !== undefined ? await fraudProof(id, game, events, params) : null,
  ];
}

/** A finished game: which neuron was proven wrong (or how the game ended otherwise) and who was paid. */
async function fraudProof(id, game, events, params) {
  const outcome = nameOf(OUTCOME, game.outcome);
  const proven = events.find((e) => e.name === "FraudProven");
  const resolvedEvent = events.find((e) => e.name === "DisputeResolved");
  const paid = events.filter((e) => e.name === "RewardPaid");
  // A plain copy: ethers freezes decoded results, and encoding them again writes to them.
  const targetKey = await chain.game.targetKeyOf(params.toObject(true));
  const [escrowed, pool, treasury] = await Promise.all([
    chain.events(chain.game, ["RewardEscrowed"], [targetKey]),
    chain.game.rewardPoolOf(targetKey),
    chain.stake.treasury(),
  ]);
  const slashed = resolvedEvent?.args.slashed ?? 0n;
  const share = escrowed.reduce((sum, e) => sum + e.args.amount, 0n);

  let proof;
  if (proven === undefined) {
    proof = h(
      "p",
      { id: "proof-summary" },
      outcome === "ChallengerWon"
        ? "No fraud proof: the provider missed a deadline, so the challenger won by timeout."
        : outcome === "ProviderWon"
          ? "No fraud proven: the challenger missed a deadline."
          : "The game ended without a proof (the challenger stopped or let it lapse; its bond was refunded).",
    );
  } else if (Number(proven.args.neuron) === STRUCTURAL_NEURON) {
    proof = fields([
      ["layer", h("span", { "data-field": "layer" }, String(proven.args.layer))],
      ["fraud", "structural: a malformed committed input, or a model row of the wrong width"],
    ]);
  } else {
    proof = fields([
      ["layer", h("span", { "data-field": "layer" }, String(proven.args.layer))],
      ["neuron", h("span", { "data-field": "neuron" }, String(proven.args.neuron))],
      ["expected (recomputed on-chain)", h("span", { "data-field": "expected" }, String(proven.args.expected))],
      ["claimed (the provider's)", h("span", { "data-field": "claimed" }, String(proven.args.claimed))],
    ]);
  }

  const payments = [];
  if (outcome === "ProviderWon") {
    payments.push([
      "provider",
      [h("span", { class: "mono" }, params.provider), ` got the challenger's bond of ${chain.amount(params.bond)}`],
    ]);
  } else {
    payments.push([
      "challenger's bond",
      [`${chain.amount(params.bond)} back to `, h("span", { class: "mono" }, params.challenger)],
    ]);
  }
  if (slashed > 0n) {
    payments.push(["slashed", [`${chain.amount(slashed)} from `, h("span", { class: "mono" }, params.provider)]]);
    payments.push(["treasury", [`${chain.amount(slashed - share)} to `, h("span", { class: "mono" }, treasury)]]);
    payments.push(["challengers' share", chain.amount(share)]);
  }
  for (const e of paid) {
    payments.push([
      "reward paid",
      h(
        "span",
        { "data-field": "paid" },
        `${chain.amount(e.args.amount)} to `,
        h("span", { class: "mono" }, e.args.challenger),
      ),
    ]);
  }
  if (outcome === "ChallengerWon" && paid.length === 0) {
    payments.push([
      "reward",
      Number(pool.pending) > 0
        ? `waiting for ${pool.pending} other game(s) on the target`
        : "claimable (anyone may call claimReward)",
    ]);
  }
  return section("Fraud proof", h("div", { id: "fraud-proof" }, proof), h("h3", {}, "Who was paid"), fields(payments));
}

// ---------------------------------------------------------------------------------------------------------
// One model

async function modelView(id) {
  let m;
  try {
    m = await chain.registry.getModel(id);
  } catch {
    return notFound(`No model with id ${id} on this deployment.`);
  }
  const p = m.policy;
  const zero = /^0x0{64}$/;
  return [
    h("h2", {}, "Model ", h("span", { class: "mono" }, id)),
    fields([
      ["status", nameOf(MODEL_STATUS, m.status)],
      ["version", [`v${m.version}`]],
      ["predecessor", zero.test(m.predecessor) ? "none" : link("model", m.predecessor, m.predecessor)],
      ["successor", zero.test(m.successor) ? "none" : link("model", m.successor, m.successor)],
      ["publisher", h("span", { class: "mono" }, m.publisher)],
      ["registered", formatTime(m.registeredAt)],
      ["accepts commitments until", Number(m.acceptsUntil) >= 2 ** 48 - 1 ? "no end" : formatTime(m.acceptsUntil)],
      ["content hash", h("span", { class: "mono" }, m.contentHash)],
      ["weights root", h("span", { class: "mono" }, m.weightsRoot)],
      ["engine", h("span", { class: "mono" }, m.engineId)],
      ["optimistic (disputable)", m.optimistic ? "yes" : "no"],
      ["challenge window", formatDuration(p.challengeWindow)],
      ["response window", formatDuration(p.responseWindow)],
      ["minimum stake", chain.amount(p.minStake)],
      ["slash", chain.amount(p.slashAmount)],
      ["challenger bond", chain.amount(p.challengerBond)],
      [
        "TEE",
        nameOf(TEE_MODE, p.teeMode) === "None"
          ? "not accepted"
          : `${nameOf(TEE_MODE, p.teeMode)}, ${formatDuration(p.teeWindow)}`,
      ],
      ["max batch leaves", String(m.maxBatchLeaves)],
      ["metadata URI", h("span", { class: "uri" }, m.metadataURI)],
    ]),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Routing, search, boot

function notFound(message) {
  return h("p", { class: "empty", id: "not-found" }, message);
}

async function viewFor(hash) {
  const [, kind, id] = hash.replace(/^#/, "").split("/");
  if (kind === undefined || kind === "") return overview();
  if (kind === "gas") return gasView(await (await fetch("/bench.json")).json());
  if (!isBytes32(id)) return notFound("That is not an id (0x and 64 hex digits).");
  if (kind === "commitment") return commitmentView(id);
  if (kind === "dispute") return disputeView(id);
  if (kind === "model") return modelView(id);
  return notFound("No such page.");
}

async function render() {
  const main = document.getElementById("main");
  const mine = ++renderCount;
  const hash = window.location.hash;
  main.setAttribute("data-state", "loading");
  main.setAttribute("data-route", hash);
  replace(main, h("p", { class: "loading" }, "Loading…"));
  try {
    await chain.refreshClock();
    renderStatus();
    const view = await viewFor(hash);
    if (mine !== renderCount) return; // a newer route took over
    replace(main, view);
    main.setAttribute("data-state", "ready");
  } catch (error) {
    if (mine !== renderCount) return;
    replace(main, h("p", { class: "error", id: "error" }, `Cannot read the chain: ${messageOf(error)}`));
    main.setAttribute("data-state", "error");
  }
}

function messageOf(error) {
  return String(error?.shortMessage ?? error?.message ?? error).split("\n")[0];
}

function renderStatus() {
  const c = chain.config;
  replace(
    document.getElementById("chain-status"),
    `chain ${c.chainId} at ${c.rpcHost} · deployment ${c.deployment} · head block ${chain.clock.number} (${formatTime(chain.clock.timestamp)})`,
  );
}

async function search(event) {
  event.preventDefault();
  const input = document.getElementById("search-id");
  const message = document.getElementById("search-message");
  const id = input.value.trim();
  replace(message);
  if (!isBytes32(id)) {
    append(message, ["Enter an id: 0x and 64 hex digits."]);
    return;
  }
  try {
    const kind = await chain.kindOf(id);
    if (kind === undefined) append(message, ["No commitment, batch, dispute or model has this id."]);
    else window.location.hash = `#/${kind}/${id.toLowerCase()}`;
  } catch (error) {
    append(message, [`Cannot search: ${messageOf(error)}`]);
  }
}

async function boot() {
  const main = document.getElementById("main");
  document.getElementById("search").addEventListener("submit", search);
  document.getElementById("refresh").addEventListener("click", () => render());
  try {
    chain = await Chain.connect();
  } catch (error) {
    replace(main, h("p", { class: "error", id: "error" }, messageOf(error)));
    main.setAttribute("data-state", "error");
    return;
  }
  window.addEventListener("hashchange", () => render());
  setInterval(tick, 1000);
  await render();
}

boot();
