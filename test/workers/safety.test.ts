/**
 * Safety limits inside workerd (issue 10): no subrequest URL of a full check carries an auth token
 * (the simulator logs every REST request); 30 days of checks plus run spam stay within the stated
 * row bounds after housekeeping; manual runs are rate-limited per monitor.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MANUAL_RUNS, RETENTION } from "../../worker/monitor/retention.ts";
import type { FillMonitor } from "../../durable-objects/FillMonitor.ts";
import { monitorStub } from "../../worker/stub.ts";
import { api, monitorFor, runCron, sim, waitForVerdict } from "./helpers.ts";

interface RequestEntry {
  seq: number;
  method: string;
  path: string;
  authorization_header: boolean;
  token_in_url: boolean;
}

describe("no token in a URL", () => {
  it("every REST request of a full check and its flatten carries auth only in the Authorization header", async () => {
    const m = monitorFor("sec_urls");
    const list = async (q: string) =>
      ((await (await sim(`/_sim/requests?${q}`)).json()) as { requests: RequestEntry[] }).requests;
    const before = (await list("limit=1")).at(-1)?.seq ?? 0;
    await runCron("sec_urls", 1_800_900_000_000);
    const c = await waitForVerdict(m.id, undefined, 30_000);
    expect(c.verdict).toBe("pass");
    const log = await list(`limit=1000&since=${before}`);
    const ours = log.filter((e) => e.path.includes(String(m.account_index)));
    expect(ours.length).toBeGreaterThan(3);
    for (const e of log) {
      expect(e.token_in_url, e.path).toBe(false);
      expect(e.path).not.toMatch(/[?&]auth=/);
    }
    // The authenticated look-ups did authenticate, in the header.
    expect(ours.filter((e) => e.path.startsWith("/api/v1/accountOrders")).every((e) => e.authorization_header)).toBe(
      true,
    );
  });
});

describe("bounded storage", () => {
  it("30 days of checks, orders, events, alerts and ticks stay under the stated bounds after housekeeping", async () => {
    const m = monitorFor("sec_retention");
    const stub = monitorStub(env, { id: m.id, locationHint: null });
    await stub.status(m.id);
    const counts = await runInDurableObject(stub, (_i: FillMonitor, state) => {
      const sql = state.storage.sql;
      const now = Date.now();
      const frames = JSON.stringify([{ at: now, dir: "in", frame: "x".repeat(500) }]);
      // 30 days at one check a minute, each with an order, 5 order events, a tick and an outbox row.
      for (let i = 0; i < 30 * 1440; i++) {
        const at = now - i * 60_000;
        const id = `sim-${i}`;
        const verdict = i % 10 === 0 ? "fail" : "pass";
        sql.exec(
          `INSERT INTO checks (id, tick_key, market, state, phase, started_at, verdict, evidence) VALUES (?, ?, 0, 'done', 'done', ?, ?, ?)`,
          id,
          `cron:${at}`,
          at,
          verdict,
          JSON.stringify({ last_frames: JSON.parse(frames) as unknown }),
        );
        sql.exec(`INSERT INTO ticks (tick_key, check_id, at) VALUES (?, ?, ?)`, `cron:${at}`, id, at);
        sql.exec(
          `INSERT INTO orders (coi, check_id, purpose, market, is_ask, base_amount, price, notional_usd, nonce, tx_type, tx_info, tx_hash, send_state, created_at, updated_at)
           VALUES (?, ?, 'test', 0, 0, '50', 1, 10, '1', 14, ?, 'h', 'accepted', ?, ?)`,
          `9${i}`,
          id,
          "t".repeat(700),
          at,
          at,
        );
        for (let k = 0; k < 5; k++) {
          sql.exec(
            `INSERT INTO order_events (coi, at, source, kind, detail) VALUES (?, ?, 'ws', 'update', ?)`,
            `9${i}`,
            at,
            frames,
          );
        }
        sql.exec(
          `INSERT INTO outbox (id, created_at, item, state, next_at) VALUES (?, ?, '{}', 'sent', ?)`,
          `o${i}`,
          at,
          at,
        );
      }
      const n = (t: string) => sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`).toArray()[0]!.n;
      return {
        checks: n("checks"),
        orders: n("orders"),
        order_events: n("order_events"),
        outbox: n("outbox"),
        ticks: n("ticks"),
      };
    });
    expect(counts.checks).toBeGreaterThan(RETENTION.checks.maxRows);
    await stub.housekeeping(m.id);
    const after = await runInDurableObject(stub, (_i: FillMonitor, state) => {
      const sql = state.storage.sql;
      const n = (q: string) => sql.exec<{ n: number }>(q).toArray()[0]!.n;
      return {
        checks: n(`SELECT COUNT(*) AS n FROM checks`),
        orders: n(`SELECT COUNT(*) AS n FROM orders`),
        order_events: n(`SELECT COUNT(*) AS n FROM order_events`),
        outbox: n(`SELECT COUNT(*) AS n FROM outbox`),
        ticks: n(`SELECT COUNT(*) AS n FROM ticks`),
        events: n(`SELECT COUNT(*) AS n FROM events`),
        framesOnPasses: n(
          `SELECT COUNT(*) AS n FROM checks WHERE verdict = 'pass' AND json_extract(evidence, '$.last_frames') IS NOT NULL`,
        ),
        framesOnOldFailures: n(
          `SELECT COUNT(*) AS n FROM checks WHERE verdict = 'fail' AND started_at < ${Date.now() - RETENTION.framesMaxAgeMs} AND json_extract(evidence, '$.last_frames') IS NOT NULL`,
        ),
      };
    });
    expect(after.checks).toBeLessThanOrEqual(RETENTION.checks.maxRows + 1);
    expect(after.orders).toBeLessThanOrEqual(RETENTION.orders.maxRows);
    expect(after.order_events).toBeLessThanOrEqual(RETENTION.orderEvents.maxRows);
    expect(after.outbox).toBeLessThanOrEqual(RETENTION.outbox.maxRows);
    expect(after.ticks).toBeLessThanOrEqual(RETENTION.ticks.maxRows);
    expect(after.events).toBeLessThanOrEqual(20_000);
    expect(after.framesOnPasses).toBe(0);
    expect(after.framesOnOldFailures).toBe(0);
  });

  it("POST /checks/run is rate-limited per monitor (429 with Retry-After)", async () => {
    const m = monitorFor("sec_spam");
    const stub = monitorStub(env, { id: m.id, locationHint: null });
    await stub.status(m.id);
    // Manual runs already in the window count: fill it, then one more is refused at once.
    await runInDurableObject(stub, (_i: FillMonitor, state) => {
      for (let i = 0; i < MANUAL_RUNS.max; i++) {
        state.storage.sql.exec(
          `INSERT INTO checks (id, tick_key, market, state, phase, started_at) VALUES (?, ?, 0, 'done', 'done', ?)`,
          `spam-${i}`,
          `manual:spam:${i}`,
          Date.now() - i * 1000,
        );
      }
    });
    const res = await api(`/checks/run?monitor=${encodeURIComponent(m.id)}`, { method: "POST" });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    const body = (await res.json()) as { error: { status: number; message: string } };
    expect(body.error.status).toBe(429);
  });
});
