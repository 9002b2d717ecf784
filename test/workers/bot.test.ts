/**
 * Bot reconciliation in workerd against the simulator with its trading bot: the ingest route's
 * auth, limits and bad input (nothing of a bad batch is stored), a fill the bot withheld →
 * bot_missed_fill naming the order (misses grouped into one incident, resolved once the bot
 * reports again), a late report → bot_late with the delay, a phantom → bot_phantom_fill, and a
 * silent ingest → bot_ingest_silent holding misses back. Delivery latency percentiles appear in
 * /status and /metrics.
 */
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { API_TOKEN, api, monitorFor, receivedAlerts, waitFor } from "./helpers.ts";
import { TestBot, ingestToken, postSeen } from "./bot-helpers.ts";
import { startBot, startWatch, stopWatch, watchStatus } from "./watch-helpers.ts";

interface BotView {
  enabled: boolean;
  silent: boolean | null;
  ingest: { batches: number; reports: number; heartbeats: number; duplicates: number; rate_limited: number };
  fills: Record<string, number>;
  recent_misses: { order_index: string; verdict: string; filled_after: string }[];
  recent_late: { order_index: string; verdict: string; delay_ms: number }[];
  recent_phantoms: { order_index: string | null; reported_filled_base: string }[];
}

async function botView(
  scenario: string,
): Promise<BotView & { incidents: { kind: string; diagnosis: string; failures: number }[] }> {
  const s = await watchStatus(monitorFor(scenario));
  return { ...(s.watch as unknown as { bot: BotView }).bot, incidents: s.incidents as never };
}

const alertsWith = async (scenario: string, text: string) =>
  (await receivedAlerts(scenario)).filter((a) => JSON.stringify(a.body).includes(text));

const bots: TestBot[] = [];
afterAll(async () => {
  for (const b of bots) b.stop();
  for (const s of ["bot_missed", "bot_phantom", "bot_silent"]) await stopWatch(monitorFor(s));
});

describe("POST /watch/{monitor}/seen", () => {
  const m = monitorFor("bot_ingest");
  const good = (order: string, filled = "0.0100") =>
    ({ order_index: order, filled_base: filled, seen_at: Date.now() }) as Record<string, unknown>;

  it("authenticates with the monitor's ingest token only, in constant time, never echoing it", async () => {
    expect((await postSeen(m, "[]", { token: null })).status).toBe(401);
    const wrong = await postSeen(m, "[]", { token: "ingest-token-bot_ingest-012345678X" });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain("ingest-token");
    // The API token is not an ingest token, and the ingest token is not an API token.
    expect((await postSeen(m, "[]", { token: API_TOKEN })).status).toBe(401);
    const status = await api("/status", { headers: { Authorization: `Bearer ${ingestToken(m)}` } });
    expect(status.status).toBe(401);
    // No bearer token or CSRF token for the API is needed: the ingest token is the credential.
    const ok = await postSeen(m, "[]");
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ accepted: 0, duplicate: false, heartbeat: true });
    // A monitor without a bot block has no ingest token: 503 naming the secret; unknown monitors 404.
    const plain = monitorFor("watch_late");
    const r503 = await postSeen(plain, "[]", { token: "x" });
    expect(r503.status).toBe(503);
    expect(await r503.text()).toContain("WATCH_INGEST_TOKEN__CUSTOM_");
    expect((await postSeen({ ...m, id: "custom:1:999" }, "[]")).status).toBe(404);
    const get = await api(`/watch/${encodeURIComponent(m.id)}/seen`);
    expect(get.status).toBe(405);
  });

  it("bad input is a 400 naming the field and nothing of the batch is stored; JSON and NDJSON", async () => {
    const before = await botView("bot_ingest");
    const bad = await postSeen(
      m,
      JSON.stringify([good("11"), { order_index: "12", filled_base: "1e3", seen_at: Date.now() }]),
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^\[1\]\.filled_base: /);
    const num = await postSeen(m, `[{"order_index":281476612587355123,"filled_base":"1","seen_at":${Date.now()}}]`);
    expect(num.status).toBe(400);
    expect(await num.text()).toContain("[0].order_index");
    const nd = await postSeen(m, `${JSON.stringify(good("13"))}\n{"order_index":"14","filled_base":"1"}`, {
      contentType: "application/x-ndjson",
    });
    expect(nd.status).toBe(400);
    expect(await nd.text()).toContain("line 2.seen_at");
    const after = await botView("bot_ingest");
    expect(after.ingest.reports).toBe(before.ingest.reports);
    expect(after.ingest.batches).toBe(before.ingest.batches);
    const okNd = await postSeen(m, `${JSON.stringify(good("13"))}\n${JSON.stringify(good("14"))}\n`, {
      contentType: "application/x-ndjson",
    });
    expect(await okNd.json()).toEqual({ accepted: 2, duplicate: false, heartbeat: false });
    expect((await botView("bot_ingest")).ingest.reports).toBe(before.ingest.reports + 2);
  });

  it("a batch is idempotent: the same batch twice counts once", async () => {
    const body = JSON.stringify([good("21", "0.5"), good("22", "0.25")]);
    const first = await postSeen(m, body);
    expect(await first.json()).toMatchObject({ accepted: 2, duplicate: false });
    const v1 = await botView("bot_ingest");
    const again = await postSeen(m, body);
    expect(await again.json()).toMatchObject({ accepted: 2, duplicate: true });
    const v2 = await botView("bot_ingest");
    expect(v2.ingest.reports).toBe(v1.ingest.reports);
    expect(v2.ingest.duplicates).toBe(v1.ingest.duplicates + 1);
  });

  it("accepted reports and batch keys are in SQLite: an eviction loses none, and a replayed batch still counts once", async () => {
    const body = JSON.stringify([good("31", "0.5"), good("32", "0.75"), good("33", "1")]);
    expect(await (await postSeen(m, body)).json()).toMatchObject({ accepted: 3, duplicate: false });
    const before = ((await botView("bot_ingest")) as unknown as { stored: Record<string, number> }).stored;
    // Stop the watch session (its alarm invocation) so the object can be evicted gracefully.
    await api(`/pause?monitor=${encodeURIComponent(m.id)}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    await waitFor("the session closed", async () => (await watchStatus(m)).session.state === "closed");
    await evictDurableObject(env.FILL_MONITOR.get(env.FILL_MONITOR.idFromName(m.id)));
    const after = (await botView("bot_ingest")) as unknown as {
      stored: Record<string, number>;
      ingest: { reports: number };
    };
    expect(after.ingest.reports).toBe(0);
    expect(after.stored.bot_seen).toBe(before.bot_seen);
    expect(after.stored.bot_batches).toBe(before.bot_batches);
    expect(await (await postSeen(m, body)).json()).toMatchObject({ accepted: 3, duplicate: true });
    expect(((await botView("bot_ingest")) as unknown as { stored: Record<string, number> }).stored.bot_seen).toBe(
      before.bot_seen,
    );
  });

  it("body size, batch size and rate are bounded", async () => {
    const big = await postSeen(m, `[${" ".repeat(300 * 1024)}]`);
    expect(big.status).toBe(413);
    const many = JSON.stringify(Array.from({ length: 1001 }, (_, i) => good(String(1000 + i))));
    const tooMany = await postSeen(m, many);
    expect(tooMany.status).toBe(400);
    expect(await tooMany.text()).toContain("at most 1000 reports");
    let limited: Response | null = null;
    for (let i = 0; i < 130 && !limited; i++) {
      const r = await postSeen(m, "[]");
      if (r.status === 429) limited = r;
      else expect(r.status).toBe(200);
    }
    expect(limited).not.toBeNull();
    expect(Number(limited!.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await botView("bot_ingest")).ingest.rate_limited).toBeGreaterThan(0);
  });
});

describe("bot verdicts", () => {
  it("a withheld fill → bot_missed_fill naming the order, misses grouped into one incident; a late report → bot_late; healed → resolved", async () => {
    const m = await startWatch("bot_missed");
    const bot = new TestBot(m, (n) => n % 3 === 1);
    bots.push(bot);
    bot.start(600);
    await startBot(m, 120, 31);
    const v = await waitFor(
      "two bot_missed_fill verdicts",
      async () => {
        const b = await botView("bot_missed");
        return b.recent_misses.length >= 2 && (b.fills.reported ?? 0) > 0 ? b : null;
      },
      25_000,
    );
    for (const miss of v.recent_misses) expect(bot.withheld).toContain(miss.order_index);
    expect(v.incidents.filter((i) => i.kind === "bot" && i.diagnosis === "bot_missed_fill")).toHaveLength(1);
    // Grouped: one trigger for the incident however many fills it names.
    const triggers = await waitFor("the bot_missed_fill alert", async () => {
      const a = (await alertsWith("bot_missed", "bot_missed_fill")).filter((x) =>
        /^FAILING/.test(String(x.body.title)),
      );
      return a.length > 0 ? a : null;
    });
    expect(triggers).toHaveLength(1);
    expect(JSON.stringify(triggers[0]!.body)).toContain(v.recent_misses[0]!.order_index);
    expect(JSON.stringify(triggers[0]!.body)).toContain("Reconcile the bot's position");
    // The bot reports a missed fill now: bot_late with its delay (past the 2 s window).
    const missed = v.recent_misses[0]!.order_index;
    const late = await postSeen(
      m,
      JSON.stringify([{ order_index: missed, filled_base: v.recent_misses[0]!.filled_after, seen_at: Date.now() }]),
    );
    expect(late.status).toBe(200);
    const lateView = await waitFor("bot_late", async () => {
      const b = await botView("bot_missed");
      return b.recent_late.find((l) => l.order_index === missed) ?? null;
    });
    expect(lateView.verdict).toBe("late");
    expect(lateView.delay_ms).toBeGreaterThan(2_000);
    // Healed: the bot reports everything again; after resolve_after_cycles passes the incident resolves.
    bot.withhold = () => false;
    await waitFor(
      "the resolved notification",
      async () => ((await alertsWith("bot_missed", "RESOLVED")).length > 0 ? true : null),
      25_000,
    );
    expect((await alertsWith("bot_missed", "bot_phantom_fill")).length).toBe(0);
    // Delivery latency: percentiles per channel and market, in /status and /metrics.
    const res = await api(`/status?monitor=${encodeURIComponent(m.id)}`);
    const st = ((await res.json()) as { monitors: Record<string, unknown>[] }).monitors[0]!;
    const dl = st.delivery_latency_ms as Record<string, Record<string, { p50: number; p99: number; samples: number }>>;
    expect(dl.account_all_orders!["0"]!.samples).toBeGreaterThan(0);
    expect(dl.account_all_orders!["0"]!.p99).toBeGreaterThanOrEqual(dl.account_all_orders!["0"]!.p50);
    expect((st.bot_lag_ms as Record<string, Record<string, { samples: number }>>)["1h"]!["0"]!.samples).toBeGreaterThan(
      0,
    );
    const metrics = await (await api(`/metrics?monitor=${encodeURIComponent(m.id)}`)).text();
    expect(metrics).toMatch(
      /fillwatch_delivery_latency_ms\{monitor="[^"]+",channel="account_all_orders",market="0",window="1h",quantile="0\.99"\} \d/,
    );
    expect(metrics).toMatch(/fillwatch_bot_fills_total\{monitor="[^"]+",verdict="missed"\} [1-9]/);
  });

  it("a report of a fill the exchange never made → bot_phantom_fill; real fills are never phantoms", async () => {
    const m = await startWatch("bot_phantom");
    const bot = new TestBot(m);
    bots.push(bot);
    bot.start(600);
    await startBot(m, 60, 32);
    await waitFor("a fill reported in time", async () => ((await botView("bot_phantom")).fills.reported ?? 0) > 0);
    const ghost = "281474976710655123";
    expect(
      (await postSeen(m, JSON.stringify([{ order_index: ghost, filled_base: "0.0300", seen_at: Date.now() }]))).status,
    ).toBe(200);
    const alert = await waitFor("the bot_phantom_fill alert", async () => {
      const a = await alertsWith("bot_phantom", "bot_phantom_fill");
      return a.length > 0 ? a[0]! : null;
    });
    expect(JSON.stringify(alert.body)).toContain(ghost);
    const v = await botView("bot_phantom");
    expect(v.recent_phantoms.map((p) => p.order_index)).toEqual([ghost]);
    expect(v.recent_misses).toEqual([]);
  });

  it("a silent ingest opens bot_ingest_silent and holds misses back; the bot's return resolves it", async () => {
    const m = await startWatch("bot_silent");
    const bot = new TestBot(m);
    bots.push(bot);
    await bot.tick();
    await startBot(m, 60, 33);
    // The bot goes quiet while its fills keep coming.
    await waitFor(
      "the bot_ingest_silent alert",
      async () => ((await alertsWith("bot_silent", "bot_ingest_silent")).length > 0 ? true : null),
      20_000,
    );
    const during = await botView("bot_silent");
    expect(during.silent).toBe(true);
    expect(during.incidents.some((i) => i.kind === "bot_ingest")).toBe(true);
    await waitFor("fills while silent", async () => {
      const s = await watchStatus(m);
      return (s.watch.fills.fills ?? 0) > 0;
    });
    // Held back: no bot_missed_fill while the ingest is silent.
    expect((await botView("bot_silent")).recent_misses).toEqual([]);
    expect((await alertsWith("bot_silent", "bot_missed_fill")).length).toBe(0);
    // The bot comes back and reports what it saw: the silence resolves, its fills are in time or late, never missed.
    bot.start(600);
    await waitFor(
      "bot_ingest_silent resolved",
      async () => ((await alertsWith("bot_silent", "RESOLVED")).length > 0 ? true : null),
      20_000,
    );
    await waitFor(
      "a judged fill after the silence",
      async () => {
        const b = await botView("bot_silent");
        return (b.fills.reported ?? 0) + (b.fills.late ?? 0) > 0 ? b : null;
      },
      20_000,
    );
    expect((await botView("bot_silent")).recent_misses).toEqual([]);
  });
});
