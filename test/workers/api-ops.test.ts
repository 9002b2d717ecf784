/**
 * GET /metrics after a real check (Prometheus text with the check, latency, frame, alert and
 * unresolved-order families) and POST /alerts/test through the monitor's real targets against
 * the local webhook receiver: the HMAC signature verifies, a failing target is reported as such.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { inject } from "vitest";
import type { FillMonitor } from "../../durable-objects/FillMonitor.ts";
import { monitorStub } from "../../worker/stub.ts";
import { api, monitorFor, received, waitFor } from "./helpers.ts";
import { API_OPS_HMAC_KEY, API_OPS_PD_KEY } from "./api-constants.ts";

const m = monitorFor("api_ops");
const q = `monitor=${encodeURIComponent(m.id)}`;

function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(" ").pop());
  }
  return null;
}

async function hmacHex(key: string, body: string): Promise<string> {
  const k = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(body)));
  return [...sig].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("/metrics", () => {
  it("after a real passing check", async () => {
    const run = (await (await api(`/checks/run?${q}`, { method: "POST" })).json()) as { check_id: string };
    await waitFor("the check to settle", async () => {
      const c = (await (await api(`/checks/${run.check_id}?${q}`)).json()) as { state: string; flatten: unknown };
      return c.state === "done" && c.flatten !== null;
    });
    const res = await api(`/metrics?${q}`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const mon = { monitor: m.id };
    expect(sample(text, "fillwatch_checks_total", { ...mon, verdict: "pass" })).toBe(1);
    expect(sample(text, "fillwatch_fill_latency_seconds_count", mon)).toBe(1);
    expect(sample(text, "fillwatch_fill_latency_seconds_bucket", { ...mon, le: "+Inf" })).toBe(1);
    expect(sample(text, "fillwatch_stage_latency_seconds_count", { ...mon, stage: "fill_seen" })).toBe(1);
    expect(sample(text, "fillwatch_frames_total", { ...mon, type: "order_book_snapshot" })).toBeGreaterThan(0);
    expect(sample(text, "fillwatch_budget_orders_today", mon)).toBeGreaterThanOrEqual(1);
    expect(sample(text, "fillwatch_unresolved_orders", mon)).toBe(0);
    expect(sample(text, "fillwatch_book_gaps_total", mon)).toBe(0);
    expect(sample(text, "fillwatch_paused", mon)).toBe(0);
    for (const family of ["fillwatch_reconnects_total", "fillwatch_alerts_sent_total", "fillwatch_alerts_failed_total"])
      expect(text).toContain(`# TYPE ${family} `);
    // All (valid) monitors without ?monitor=.
    const all = await (await api("/metrics")).text();
    expect(all.match(/^fillwatch_paused\{/gm)!.length).toBe(inject("monitors").filter((x) => x.valid).length);
  });
});

describe("POST /alerts/test", () => {
  it("delivers through every target; the webhook's HMAC verifies; a failing target is reported", async () => {
    const hook = inject("hookUrl");
    await fetch(`${hook}/_fail`, {
      method: "POST",
      body: JSON.stringify({ path: "/hook/api_ops_slack", status: 500, times: 1 }),
    });
    const res = await api(`/alerts/test?${q}`, { method: "POST" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      monitor: string;
      ok: boolean;
      sent_at: string;
      deliveries: {
        target: string;
        index: number;
        ok: boolean;
        status: number | null;
        latency_ms: number;
        error: string | null;
      }[];
    };
    expect(body.monitor).toBe(m.id);
    expect(body.ok).toBe(false);
    expect(body.deliveries).toEqual([
      { target: "webhook", index: 0, ok: true, status: 200, latency_ms: expect.any(Number), error: null },
      { target: "slack", index: 1, ok: false, status: 500, latency_ms: expect.any(Number), error: "HTTP 500" },
      { target: "pagerduty", index: 2, ok: true, status: 200, latency_ms: expect.any(Number), error: null },
    ]);
    expect(JSON.stringify(body)).not.toContain(hook.replace("http://", ""));

    const got = await received("/hook/api_ops");
    expect(got).toHaveLength(1);
    const alert = got[0]!;
    expect(alert.body).toMatchObject({ monitor: m.id, diagnosis: "test_alert" });
    expect(String(alert.body.title)).toMatch(/TEST alert/);
    const expected = `sha256=${await hmacHex(API_OPS_HMAC_KEY, JSON.stringify(alert.body))}`;
    expect(alert.headers["x-fillwatch-signature"]).toBe(expected);
    expect(await hmacHex("another key", JSON.stringify(alert.body))).not.toBe(expected.slice(7));

    // Second try: the slack path works again.
    const again = (await (await api(`/alerts/test?${q}`, { method: "POST" })).json()) as { ok: boolean };
    expect(again.ok).toBe(true);
    expect(await received("/hook/api_ops_slack")).toHaveLength(1);
    const logs = (await (await api(`/logs?${q}&event=alert.test`)).json()) as { events: { data: unknown }[] };
    expect(logs.events).toHaveLength(2);
  });

  it("a PagerDuty test incident resolves itself a minute later, with the same dedup_key", async () => {
    const before = (await received("/hook/api_ops_pd")).length;
    const t0 = Date.now();
    const res = await api(`/alerts/test?${q}`, { method: "POST" });
    const body = (await res.json()) as { resolves_at: string | null };
    const at = Date.parse(body.resolves_at!);
    expect(at - t0).toBeGreaterThanOrEqual(59_000);
    expect(at - t0).toBeLessThanOrEqual(61_000 + (Date.now() - t0));
    const pd = await received("/hook/api_ops_pd");
    expect(pd).toHaveLength(before + 1);
    const trigger = pd[pd.length - 1]!.body as { event_action: string; dedup_key: string; routing_key: string };
    expect(trigger).toMatchObject({ event_action: "trigger", routing_key: API_OPS_PD_KEY });
    // Not before the minute is up: the resolve waits in the outbox.
    const stub = monitorStub(env, { id: m.id, locationHint: null });
    const pending = await runInDurableObject(stub, (_: FillMonitor, state) =>
      state.storage.sql
        .exec<{ id: string; next_at: number }>(
          `SELECT id, next_at FROM outbox WHERE state = 'pending' AND id LIKE ?`,
          `${trigger.dedup_key}%`,
        )
        .toArray(),
    );
    expect(pending).toHaveLength(1);
    expect(pending[0]!.next_at).toBe(at);
    expect((await received("/hook/api_ops_pd")).length).toBe(before + 1);
    // The minute passes (moved forward here): the alarm delivers the resolve.
    await runInDurableObject(stub, (_: FillMonitor, state) => {
      state.storage.sql.exec(`UPDATE outbox SET next_at = ? WHERE id = ?`, Date.now(), pending[0]!.id);
      state.storage.sql.exec(`UPDATE deadlines SET at = ? WHERE name = 'outbox'`, Date.now());
    });
    await runDurableObjectAlarm(stub);
    const after = await waitFor("the PagerDuty resolve", async () => {
      const x = await received("/hook/api_ops_pd");
      return x.length === before + 2 ? x : null;
    });
    expect(after[after.length - 1]!.body).toEqual({
      routing_key: API_OPS_PD_KEY,
      event_action: "resolve",
      dedup_key: trigger.dedup_key,
    });
  });
});
