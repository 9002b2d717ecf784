/**
 * What one result does to an alert stream (worker/alerts/streams.ts), pure: each stream's policy,
 * replays, the state worth a write, the incident row written as an incident opens, fails on and
 * resolves (and not before it resolves), outbox items per target, which targets can be delivered
 * to, the heartbeat URL of each verdict, and open incidents as /status lists them.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, initialAlertState, type CheckResult } from "../../../worker/alerts/alert-policy.ts";
import {
  ALERT_STREAMS,
  STATE_KEY,
  applyToStream,
  deliverable,
  deliveryLevel,
  heartbeatUrl,
  openIncidentView,
  outboxItem,
  policyFor,
  undeliverable,
} from "../../../worker/alerts/streams.ts";

const T = Date.UTC(2026, 11, 6, 9, 0, 0);
const alerts = { failAfter: 3, resolveAfter: 2, degradedCounts: true, remindEveryMs: 60_000 };

function result(id: string, i: number, verdict: CheckResult["verdict"], diagnosis: string | null = null): CheckResult {
  return {
    checkId: id,
    at: T + i * 1_000,
    verdict,
    firstFailingStage: verdict === "fail" ? "fill_seen" : null,
    diagnosis,
    flatten: null,
    action: diagnosis ? `fix ${diagnosis}` : null,
    evidence: {},
  };
}

describe("alert streams", () => {
  it("check verdicts follow the monitor's counts; every other stream fires at once", () => {
    expect(policyFor("checks", alerts)).toMatchObject({ failAfter: 3, resolveAfter: 2, degradedCounts: true });
    expect(policyFor("checks", null)).toMatchObject({
      failAfter: DEFAULT_POLICY.failAfter,
      resolveAfter: DEFAULT_POLICY.resolveAfter,
    });
    expect(policyFor("watch", alerts, 5)).toMatchObject({ failAfter: 1, resolveAfter: 5, remindEveryMs: 60_000 });
    expect(ALERT_STREAMS).toHaveLength(Object.keys(STATE_KEY).length);
  });

  it("a healthy pass stores nothing; a replay does nothing at all", () => {
    const policy = policyFor("checks", alerts);
    const a = applyToStream(initialAlertState(), result("c1", 0, "pass"), "m", "checks", policy);
    expect(a).toMatchObject({ replay: false, store: false, notifications: [], incident: null });
    const failing = applyToStream(initialAlertState(), result("c2", 1, "fail", "x"), "m", "checks", policy);
    expect(failing.store).toBe(true);
    const again = applyToStream(failing.state, result("c2", 1, "fail", "x"), "m", "checks", policy);
    expect(again).toMatchObject({ replay: true, store: false, notifications: [], incident: null });
  });

  it("the incident row is written as it opens and fails on, stays open on a pass that does not resolve it, and resolves", () => {
    const policy = policyFor("checks", { ...alerts, failAfter: 1 });
    const opened = applyToStream(initialAlertState(), result("c1", 0, "fail", "a"), "m", "monitor", policy);
    expect(opened.notifications.map((n) => n.kind)).toEqual(["trigger"]);
    expect(opened.incident).toMatchObject({ action: "fix a", resolvedAt: null, incident: { id: "m:monitor:c1" } });
    const worse = applyToStream(opened.state, result("c2", 1, "fail", "b"), "m", "monitor", policy);
    expect(worse.incident).toMatchObject({ resolvedAt: null, incident: { failures: 2, history: ["a", "b"] } });
    // resolveAfter 2: one pass (or a skip) leaves the incident open.
    const pass1 = applyToStream(worse.state, result("c3", 2, "pass"), "m", "monitor", { ...policy, resolveAfter: 2 });
    expect(pass1.state.open).not.toBeNull();
    expect(pass1.incident?.resolvedAt ?? null).toBeNull();
    const skip = applyToStream(pass1.state, result("c4", 3, "skipped"), "m", "monitor", { ...policy, resolveAfter: 2 });
    expect(skip.incident?.resolvedAt ?? null).toBeNull();
    const pass2 = applyToStream(skip.state, result("c5", 4, "pass"), "m", "monitor", { ...policy, resolveAfter: 2 });
    expect(pass2.notifications.map((n) => n.kind)).toEqual(["resolve"]);
    expect(pass2.incident).toMatchObject({ resolvedAt: T + 4_000, action: null, incident: { id: "m:monitor:c1" } });
  });

  it("one outbox item per target, keyed by the idempotency key; an unconfigured target fails at once", () => {
    const n = applyToStream(
      initialAlertState(),
      result("c1", 0, "fail", "flatten_failed"),
      "m",
      "flatten",
      policyFor("flatten", null),
    ).notifications[0]!;
    const item = outboxItem(n, 2, T);
    expect(item).toMatchObject({
      id: `${n.idempotencyKey}#2`,
      targetIndex: 2,
      attempts: 0,
      nextAt: T,
      state: "pending",
    });
    expect(undeliverable(item)).toMatchObject({ attempts: 1, state: "failed" });
    const t = (type: string, url: string | null) => ({ target: { type } as never, url, secret: null });
    expect(deliverable(null)).toBe(false);
    expect(deliverable(t("webhook", null))).toBe(false);
    expect(deliverable(t("webhook", ""))).toBe(false);
    expect(deliverable(t("webhook", "https://h.example/x"))).toBe(true);
    expect(deliverable(t("telegram", null))).toBe(true);
    expect(deliverable(t("pagerduty", null))).toBe(true);
    expect([deliveryLevel("failed"), deliveryLevel("sent"), deliveryLevel("pending")]).toEqual([
      "error",
      "info",
      "warn",
    ]);
  });

  it("the heartbeat pings after pass and degraded, /fail after a failure, nothing after a skip", () => {
    expect(heartbeatUrl("https://hb.example/x/", "pass")).toBe("https://hb.example/x/");
    expect(heartbeatUrl("https://hb.example/x/", "degraded")).toBe("https://hb.example/x/");
    expect(heartbeatUrl("https://hb.example/x//", "fail")).toBe("https://hb.example/x/fail");
    expect(heartbeatUrl("https://hb.example/x", "skipped")).toBeNull();
    expect(heartbeatUrl(null, "pass")).toBeNull();
  });

  it("an open incident as /status lists it, with its earlier diagnoses", () => {
    expect(openIncidentView("checks", initialAlertState())).toBeNull();
    const policy = policyFor("watch", null);
    const a = applyToStream(initialAlertState(), result("c1", 0, "fail", "a"), "m", "watch", policy);
    const b = applyToStream(a.state, result("c2", 1, "fail", "b"), "m", "watch", policy);
    expect(openIncidentView("watch", b.state)).toEqual({
      id: "m:watch:c1",
      kind: "watch",
      opened_at: T,
      stage: "fill_seen",
      diagnosis: "b",
      earlier_diagnoses: ["a"],
      failures: 2,
    });
  });
});
