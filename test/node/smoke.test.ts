/** The Node project runs on the pinned Node 22 (npm scripts put node_modules/.bin first). */
import { describe, expect, it } from "vitest";

describe("node project", () => {
  it("runs on the pinned Node 22", () => {
    expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(22);
  });
});
