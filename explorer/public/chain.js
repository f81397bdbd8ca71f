/**
 * What the page reads from the chain, through the server's read-only proxy (`/rpc`): the deployment's
 * contracts (ABIs from `/abi.json`), their views, and their events in bounded scans. A scan covers at
 * most `maxBlocks` blocks back from the head and never starts before the deployment's first block
 * (`/config.json`), in `eth_getLogs` ranges of `maxRange` blocks, as the SDK's scans do (src/sdk/logs.ts,
 * src/cli/commands/status.ts).
 */
import { Contract, Interface, JsonRpcProvider, Network, formatUnits } from "/vendor/ethers.js";

const TOKEN_ABI = ["function symbol() view returns (string)", "function decimals() view returns (uint8)"];

/** Range requests in flight at once in a full scan. */
const SCAN_CONCURRENCY = 4;

async function fetchJson(path) {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

/** A decoded event: its name and arguments, and where it is. */
function decoded(iface, log) {
  const parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
  if (parsed === null) return undefined;
  return {
    name: parsed.name,
    args: parsed.args,
    blockNumber: log.blockNumber,
    logIndex: log.index,
    transactionHash: log.transactionHash,
  };
}

/** The deployment the page shows, and how it reads it. */
export class Chain {
  constructor(config, abis, provider) {
    this.config = config;
    this.provider = provider;
    const a = config.addresses;
    this.ledger = new Contract(a.ledger, abis.InferenceLedger, provider);
    this.game = new Contract(a.disputeGame, abis.DisputeGame, provider);
    this.registry = new Contract(a.registry, abis.ModelRegistry, provider);
    this.stake = new Contract(a.stakeManager, abis.StakeManager, provider);
    this.token = new Contract(a.token, TOKEN_ABI, provider);
    this.blockTimes = new Map();
    this.clock = { timestamp: 0, number: 0, at: performance.now() };
  }

  /** Reads the config and ABIs from the server, connects through `/rpc`, and checks the chain is the deployment's. */
  static async connect() {
    const [config, abis] = await Promise.all([fetchJson("/config.json"), fetchJson("/abi.json")]);
    const network = Network.from(BigInt(config.chainId));
    const url = new URL("/rpc", window.location.href).href;
    const provider = new JsonRpcProvider(url, network, { staticNetwork: network, batchMaxCount: 20, cacheTimeout: -1 });
    const chain = new Chain(config, abis, provider);
    const genesis = await provider.getBlock(0);
    if (genesis === null || genesis.hash.toLowerCase() !== config.genesisHash.toLowerCase()) {
      throw new Error(
        `the node at ${config.rpcHost} is not the chain of deployment ${config.deployment} (its genesis block differs): ` +
          "the node was restarted or replaced; restart the explorer against the right node",
      );
    }
    await Promise.all([chain.refreshClock(), chain.readTokenUnits()]);
    return chain;
  }

  /** Reads the head block: its number and timestamp set the page's chain clock. */
  async refreshClock() {
    const block = await this.provider.getBlock("latest");
    this.clock = { timestamp: block.timestamp, number: block.number, at: performance.now() };
    return this.clock;
  }

  /** The chain's time now, in seconds: the head's timestamp plus the time since it was read. */
  now() {
    return this.clock.timestamp + (performance.now() - this.clock.at) / 1000;
  }

  /** The blocks a scan covers: `[from, head]`, at most `maxBlocks` of them and none before the deployment. */
  window() {
    const head = this.clock.number;
    const from = Math.max(this.config.fromBlock, head - this.config.maxBlocks + 1, 0);
    return { from: Math.min(from, head), to: head };
  }

  /**
   * The events of `contract` named in `names` (one topic-0 set) whose indexed topics match `more`
   * (topic 1, 2, ...; null for any), decoded, in chain order. With `limit`, scans newest range first and
   * stops once it has that many (then returns the newest `limit`).
   */
  async events(contract, names, more = [], { limit } = {}) {
    const iface = contract.interface;
    const topics = [names.map((n) => iface.getEvent(n).topicHash), ...more];
    const address = await contract.getAddress();
    const { from, to } = this.window();
    const step = this.config.maxRange;
    const ranges = [];
    for (let top = to; top >= from; top -= step) ranges.push([Math.max(from, top - step + 1), top]);
    const read = async ([fromBlock, toBlock]) =>
      (await this.provider.getLogs({ address, topics, fromBlock, toBlock }))
        .map((log) => decoded(iface, log))
        .filter((e) => e !== undefined);
    const found = [];
    if (limit !== undefined) {
      for (const range of ranges) {
        found.unshift(...(await read(range)));
        if (found.length >= limit) break;
      }
      return found.slice(-limit);
    }
    for (let i = 0; i < ranges.length; i += SCAN_CONCURRENCY) {
      const chunk = await Promise.all(ranges.slice(i, i + SCAN_CONCURRENCY).map(read));
      for (const events of chunk) found.unshift(...events);
    }
    return found;
  }

  /** The timestamp of a block (cached). */
  async blockTime(number) {
    if (!this.blockTimes.has(number)) {
      this.blockTimes.set(
        number,
        this.provider.getBlock(number).then((b) => (b === null ? 0 : b.timestamp)),
      );
    }
    return this.blockTimes.get(number);
  }

  /** Reads the staking token's symbol and decimals (for amounts); a token without them shows raw units. */
  async readTokenUnits() {
    try {
      const [symbol, decimals] = await Promise.all([this.token.symbol(), this.token.decimals()]);
      this.units = { symbol: String(symbol).slice(0, 16), decimals: Math.min(Number(decimals), 36) };
    } catch {
      this.units = { symbol: "", decimals: 0 };
    }
  }

  /** "5,000 VRT": an amount in token units. */
  amount(value) {
    const { symbol, decimals } = this.units ?? { symbol: "", decimals: 0 };
    const [whole, fraction] = formatUnits(value, decimals).split(".");
    const digits = fraction === undefined || /^0*$/.test(fraction) ? "" : `.${fraction.replace(/0+$/, "")}`;
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return `${grouped}${digits}${symbol === "" ? "" : ` ${symbol}`}`;
  }

  /** What an id is on this deployment: "commitment" (single or batch), "dispute", "model", or undefined. */
  async kindOf(id) {
    const [record, game] = await Promise.all([this.ledger.recordOf(id), this.game.gameOf(id)]);
    if (Number(record.kind) !== 0) return "commitment";
    if (Number(game.phase) !== 0) return "dispute";
    try {
      const model = await this.registry.getModel(id);
      if (Number(model.status) !== 0) return "model";
    } catch {
      // ModelRegistryUnknownModel: not a model either
    }
    return undefined;
  }
}
