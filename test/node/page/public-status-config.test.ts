/** The `public_status` monitor setting: false by default, true when set, anything else an error naming it. */
import { describe, expect, it } from "vitest";
import { parseMonitors } from "../../../worker/config.ts";

const base = { network: "testnet", account_index: 5, api_key_index: 4 };

describe("public_status", () => {
  it("defaults to false and accepts true", () => {
    expect(parseMonitors(JSON.stringify([base])).monitors[0]!.publicStatus).toBe(false);
    const on = parseMonitors(JSON.stringify([{ ...base, public_status: true }]));
    expect(on.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(on.monitors[0]!.publicStatus).toBe(true);
  });

  it("refuses a non-boolean, naming the setting", () => {
    const r = parseMonitors(JSON.stringify([{ ...base, public_status: "yes" }]));
    expect(r.monitors).toEqual([]);
    expect(r.problems).toContainEqual(
      expect.objectContaining({ severity: "error", setting: "MONITORS[0].public_status" }),
    );
  });
});
