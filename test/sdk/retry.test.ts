import { expect } from "chai";
import { withRetry } from "../../src/daemons/retry.js";
import { VerityRevertError } from "../../src/sdk/index.js";

describe("withRetry", () => {
  it("retries transport errors with doubling delays until the call succeeds", async () => {
    let calls = 0;
    const delays: number[] = [];
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new Error("ECONNRESET");
        return "ok";
      },
      { baseDelayMs: 1, onRetry: (_e, _attempt, delay) => delays.push(delay) },
    );
    expect(result).to.equal("ok");
    expect(calls).to.equal(3);
    expect(delays).to.deep.equal([1, 2]);
  });

  it("gives up after the last attempt and rethrows the last error", async () => {
    let calls = 0;
    const error = await withRetry(
      async () => {
        calls++;
        throw new Error(`down ${calls}`);
      },
      { attempts: 4, baseDelayMs: 1 },
    ).catch((e: Error) => e);
    expect(calls).to.equal(4);
    expect((error as Error).message).to.equal("down 4");
  });

  it("never retries a contract revert: it is an answer, not a fault", async () => {
    let calls = 0;
    const revert = new VerityRevertError("DisputeGameDeadlinePassed", ["0x01", 5n], "0x");
    const error = await withRetry(
      async () => {
        calls++;
        throw revert;
      },
      { baseDelayMs: 1 },
    ).catch((e: unknown) => e);
    expect(calls).to.equal(1);
    expect(error).to.equal(revert);
  });
});
