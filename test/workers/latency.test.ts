/**
 * Delivery latency on a check monitor (issue 19 item 4): the check session's account frames
 * (account_orders and account_all_orders update frames) are sampled — transaction_time (µs) to
 * receipt — per channel and market; /status, /metrics and the page show the percentiles, and they
 * survive an eviction through the snapshot that rides on the machine's state save.
 */
import { evictDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createSession } from "../../worker/page/session.ts";
import { monitorStub } from "../../worker/stub.ts";
import {
  API_TOKEN,
  addFault,
  api,
  clearFault,
  monitorFor,
  monitorStatus,
  runCron,
  waitFor,
  waitForVerdict,
} from "./helpers.ts";

interface P {
  p50: number;
  p90: number;
  p99: number;
  samples: number;
}
type Table = Record<string, Record<string, P>>;

async function latencyOf(monitorId: string): Promise<{ hour: Table | undefined; day: Table | undefined }> {
  const s = await monitorStatus(monitorId);
  return { hour: s.delivery_latency_ms as Table | undefined, day: s.delivery_latency_ms_24h as Table | undefined };
}

const CHANNELS = ["account_orders", "account_all_orders"] as const;

describe("delivery latency on a check monitor", () => {
  it("samples the check session's account frames, shows them everywhere and keeps them across an eviction", async () => {
    const m = monitorFor("latency");
    await runCron("latency", 1_800_400_000_000);
    const check = await waitForVerdict(m.id, undefined, 30_000);
    expect(["pass", "degraded"], JSON.stringify(check)).toContain(check.verdict);
    // The check's last save (its flatten concluded) carries the snapshot.
    await waitFor("the flatten's outcome", async () => (await monitorStatus(m.id)).last_check?.flatten ?? null);

    const before = await latencyOf(m.id);
    expect(before.hour, "delivery_latency_ms in /status").toBeDefined();
    for (const ch of CHANNELS) {
      const p = before.hour![ch]?.["0"];
      expect(p, `${ch} market 0 in ${JSON.stringify(before.hour)}`).toBeDefined();
      expect(p!.samples).toBeGreaterThan(0);
      // Local simulator: delivered within seconds, never negative, percentiles ordered.
      expect(p!.p50).toBeGreaterThanOrEqual(0);
      expect(p!.p50).toBeLessThan(10_000);
      expect(p!.p90).toBeGreaterThanOrEqual(p!.p50);
      expect(p!.p99).toBeGreaterThanOrEqual(p!.p90);
      expect(before.day![ch]!["0"]!.samples).toBeGreaterThanOrEqual(p!.samples);
    }
    // The subscription snapshot is history, not a delivery: no other channel, no other market.
    expect(Object.keys(before.hour!).sort()).toEqual([...CHANNELS].sort());
    for (const ch of CHANNELS) expect(Object.keys(before.hour![ch]!)).toEqual(["0"]);

    const metrics = await (await api(`/metrics?monitor=${encodeURIComponent(m.id)}`)).text();
    for (const ch of CHANNELS) {
      expect(metrics).toMatch(
        new RegExp(
          `fillwatch_delivery_latency_ms\\{monitor="[^"]+",channel="${ch}",market="0",window="1h",quantile="0\\.99"\\} \\d`,
        ),
      );
      expect(metrics).toMatch(
        new RegExp(
          `fillwatch_delivery_latency_samples\\{monitor="[^"]+",channel="${ch}",market="0",window="24h"\\} [1-9]`,
        ),
      );
    }

    const cookie = `fillwatch_session=${await createSession(API_TOKEN, Date.now())}`;
    const page = await exports.default.fetch(`http://fillwatch.test/?monitor=${encodeURIComponent(m.id)}`, {
      headers: { Cookie: cookie },
    });
    expect(page.status).toBe(200);
    const html = await page.text();
    for (const ch of CHANNELS) expect(html).toContain(`data-latency="${ch}/0"`);

    // Eviction: the new instance starts from the snapshot. Frames after the check's last save
    // (none are expected once the flatten concluded) may be missing, never more than were seen.
    await evictDurableObject(monitorStub(env, { id: m.id, locationHint: null }));
    const after = await latencyOf(m.id);
    for (const ch of CHANNELS) {
      const a = after.hour?.[ch]?.["0"];
      expect(a, `${ch} after the eviction: ${JSON.stringify(after.hour)}`).toBeDefined();
      expect(a!.samples).toBeGreaterThan(0);
      expect(a!.samples).toBeLessThanOrEqual(before.hour![ch]!["0"]!.samples);
      expect(after.day![ch]!["0"]!.samples).toBe(a!.samples);
    }
  }, 60_000);

  it("frames without transaction_time give no sample; a malformed one is counted unexpected; the check is unaffected", async () => {
    const m = monitorFor("latency_odd");
    let tick = 1_800_500_000_000;
    const checkWith = async (as: "absent" | "ms") => {
      const f = await addFault({ name: "odd_transaction_time", as, account_index: m.account_index });
      try {
        await runCron("latency_odd", (tick += 300_000));
        const c = await waitForVerdict(m.id, undefined, 30_000);
        await waitFor("the flatten's outcome", async () => (await monitorStatus(m.id)).last_check?.flatten ?? null);
        expect(["pass", "degraded"], JSON.stringify(c)).toContain(c.verdict);
        return c.id;
      } finally {
        await clearFault(f);
      }
    };
    const unexpected = async () =>
      ((await monitorStatus(m.id)).counters as Record<string, number>)["delivery_latency.unexpected"] ?? 0;

    const first = await checkWith("absent");
    expect(await unexpected()).toBe(0);
    expect((await latencyOf(m.id)).hour).toEqual({});

    const second = await checkWith("ms");
    expect(second).not.toBe(first);
    expect(await unexpected()).toBeGreaterThan(0);
    expect((await latencyOf(m.id)).hour, "a malformed time is never a sample").toEqual({});
    const logs = (await (
      await api(`/logs?monitor=${encodeURIComponent(m.id)}&event=frame.unexpected&limit=5`)
    ).json()) as { events: { data: { reason: string } }[] };
    expect(logs.events.length).toBeGreaterThan(0);
    expect(logs.events[0]!.data.reason).toContain("transaction_time");
  }, 60_000);
});
