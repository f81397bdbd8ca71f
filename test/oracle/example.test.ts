import { expect } from "chai";
import { network } from "hardhat";
import { oracleExample } from "../../examples/oracle/run.js";

describe("examples/oracle (npm run example:oracle)", function () {
  it("pays the bounty only on the classifier's final answer, and the provider its fee", async function () {
    const connection = await network.create();
    const { ethers } = connection;
    const [, , provider, , claimant] = await ethers.getSigners();
    const lines: string[] = [];
    const result = await oracleExample(connection, (line) => lines.push(line));
    expect(result.predicted).to.equal(7);
    expect(result.winner).to.equal(claimant.address);
    expect(result.paid).to.equal(ethers.parseEther("100"));
    expect(result.earned).to.equal(ethers.parseEther("1"));
    expect(lines.some((l) => l.includes(`winner ${claimant.address}`))).to.equal(true);
    expect(lines.some((l) => l.includes(provider.address))).to.equal(true);
    await connection.close();
  });
});
