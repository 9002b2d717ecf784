import { describe, expect, it } from "vitest";

describe("node project", () => {
  it("runs on the pinned Node 22", () => {
    expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(22);
  });
});
