/**
 * The check in the machine's state has no history row until it ends (a flatten after its verdict
 * included: issue 18's writes per check): /checks lists it first when the filters match it, as a
 * row would have matched.
 */
import { describe, expect, it } from "vitest";
import { latestChecks, liveMatches, type ChecksQuery } from "../../../worker/views/checks.ts";

const q = (over: Partial<ChecksQuery> = {}): ChecksQuery => ({ ...latestChecks(10), ...over });
const running = { started_at: 1_000, first_failing_stage: null, diagnosis: null };
const flattening = { started_at: 1_000, first_failing_stage: "fill_seen", diagnosis: "filled_not_reported_on_ws" };

describe("liveMatches", () => {
  it.each([
    ["no filter: running", q(), running, true],
    ["no filter: flattening after a failure", q(), flattening, true],
    ["a later page (cursor): never", q({ cursor: "5.1" }), running, false],
    ["a verdict filter: finished checks only, as for rows", q({ verdict: "fail" }), flattening, false],
    ["stage filter matching the verdict's stage", q({ stage: "fill_seen" }), flattening, true],
    ["stage filter on a running check", q({ stage: "fill_seen" }), running, false],
    ["diagnosis filter matching", q({ diagnosis: "filled_not_reported_on_ws" }), flattening, true],
    ["diagnosis filter not matching", q({ diagnosis: "not_filled" }), flattening, false],
    ["since after it started", q({ since: 1_001 }), running, false],
    ["until at its start (exclusive)", q({ until: 1_000 }), running, false],
    ["inside since/until", q({ since: 1_000, until: 1_001 }), flattening, true],
  ] as const)("%s", (_n, query, live, want) => {
    expect(liveMatches(query, live)).toBe(want);
  });
});
