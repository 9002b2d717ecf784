/**
 * Bot reconciliation, pure: the ingest parser (every bad field named, nothing half-accepted), the
 * rate limit, the per-fill rules, and a model test over random schedules of fills, duplicated and
 * reordered reports, WebSocket frames and late REST pages: a bot that reports every fill in time
 * is never alerted, and a withheld report is always exactly one bot_missed_fill.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  INGEST_LIMITS,
  admitIngest,
  batchText,
  ingestTokenSecretName,
  parseSeenBatch,
} from "../../../worker/monitor/watch/bot-ingest.ts";
import { BotLedger, type ExchangeFill } from "../../../worker/monitor/watch/bot-ledger.ts";
import {
  addLevel,
  botPassResult,
  firstReached,
  judgeBotFill,
  phantomCheck,
} from "../../../worker/monitor/watch/bot-rules.ts";

const NOW = 1_800_000_000_000;
const E18 = 10n ** 18n;

describe("ingest parser", () => {
  it("accepts JSON arrays and NDJSON; ids stay exact strings beyond 2^53; amounts are exact", () => {
    const big = "281476612587355123";
    const json = parseSeenBatch(
      JSON.stringify([
        { order_index: big, filled_base: "0.0050", seen_at: NOW },
        { client_order_index: "7", filled_base: "12", seen_at: new Date(NOW).toISOString() },
      ]),
      "application/json",
      NOW,
    );
    expect(json).toEqual({
      ok: true,
      reports: [
        { orderIndex: big, clientOrderIndex: null, filledBase: "0.0050", filled: 5n * 10n ** 15n, seenAt: NOW },
        { orderIndex: null, clientOrderIndex: "7", filledBase: "12", filled: 12n * E18, seenAt: NOW },
      ],
    });
    const nd = parseSeenBatch(
      `{"order_index":"${big}","filled_base":"0.005","seen_at":${NOW}}\n\n{"client_order_index":"7","filled_base":"12.0","seen_at":${NOW}}\n`,
      "application/x-ndjson; charset=utf-8",
      NOW,
    );
    expect(nd.ok && batchText(nd.reports)).toBe(json.ok && batchText(json.reports));
  });

  it("an empty body or [] is a heartbeat", () => {
    expect(parseSeenBatch("", "application/json", NOW)).toEqual({ ok: true, reports: [] });
    expect(parseSeenBatch("[]", "application/json", NOW)).toEqual({ ok: true, reports: [] });
    expect(parseSeenBatch("\n", "application/x-ndjson", NOW)).toEqual({ ok: true, reports: [] });
  });

  it.each([
    ['[{"order_index":281476612587355,"filled_base":"1","seen_at":1}]', "[0].order_index", "not a number"],
    ['[{"order_index":"-1","filled_base":"1","seen_at":1}]', "[0].order_index", "decimal string"],
    ['[{"order_index":"9223372036854775808","filled_base":"1","seen_at":1}]', "[0].order_index", "63-bit"],
    ['[{"filled_base":"1","seen_at":1}]', "[0].order_index", "order_index or client_order_index"],
    ['[{"order_index":"1","seen_at":1}]', "[0].filled_base", "required"],
    ['[{"order_index":"1","filled_base":0.5,"seen_at":1}]', "[0].filled_base", "decimal string"],
    ['[{"order_index":"1","filled_base":"1e3","seen_at":1}]', "[0].filled_base", "decimal string"],
    ['[{"order_index":"1","filled_base":"-1","seen_at":1}]', "[0].filled_base", "decimal string"],
    ['[{"order_index":"1","filled_base":"1"}]', "[0].seen_at", "required"],
    ['[{"order_index":"1","filled_base":"1","seen_at":"yesterday"}]', "[0].seen_at", "ISO-8601"],
    ['[{"order_index":"1","filled_base":"1","seen_at":1.5}]', "[0].seen_at", "epoch milliseconds"],
    ['[{"order_index":"1","filled_base":"1","seen_at":1,"filled":"2"}]', "[0].filled", "not a known field"],
    ['{"order_index":"1"}', "body", "JSON array"],
    ["[{", "body", "not valid JSON"],
    ["[1]", "[0]", "must be an object"],
  ])("%s → 400 naming %s", (body, field, words) => {
    const r = parseSeenBatch(body.replace(/"seen_at":1([,}])/g, `"seen_at":${NOW}$1`), "application/json", NOW);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.field).toBe(field);
    expect(r.message.startsWith(`${field}: `)).toBe(true);
    expect(r.message).toContain(words);
  });

  it("a bad line in NDJSON names the line and refuses the whole batch; seen_at bounds", () => {
    const good = `{"order_index":"1","filled_base":"1","seen_at":${NOW}}`;
    const r = parseSeenBatch(
      `${good}\n${good}\n{"order_index":"1","filled_base":"x","seen_at":${NOW}}`,
      "application/x-ndjson",
      NOW,
    );
    expect(r).toMatchObject({ ok: false, field: "line 3.filled_base" });
    expect(parseSeenBatch(`${good}\nnot json`, "application/x-ndjson", NOW)).toMatchObject({
      ok: false,
      field: "line 2",
    });
    const future = `[{"order_index":"1","filled_base":"1","seen_at":${NOW + 120_000}}]`;
    expect(parseSeenBatch(future, "application/json", NOW)).toMatchObject({ ok: false, field: "[0].seen_at" });
    const old = `[{"order_index":"1","filled_base":"1","seen_at":${NOW - INGEST_LIMITS.maxAgeMs - 1}}]`;
    expect(parseSeenBatch(old, "application/json", NOW)).toMatchObject({ ok: false, field: "[0].seen_at" });
  });

  it("a batch holds at most maxReports reports (JSON and NDJSON)", () => {
    const one = { order_index: "1", filled_base: "1", seen_at: NOW };
    const many = Array.from({ length: INGEST_LIMITS.maxReports + 1 }, () => one);
    expect(parseSeenBatch(JSON.stringify(many), "application/json", NOW)).toMatchObject({ ok: false, field: "body" });
    const nd = many.map((x) => JSON.stringify(x)).join("\n");
    expect(parseSeenBatch(nd, "application/x-ndjson", NOW)).toMatchObject({ ok: false, field: "body" });
    expect(parseSeenBatch(JSON.stringify(many.slice(1)), "application/json", NOW).ok).toBe(true);
  });

  it("never throws on arbitrary input", () => {
    fc.assert(
      fc.property(fc.string(), fc.boolean(), (s, nd) => {
        const r = parseSeenBatch(s, nd ? "application/x-ndjson" : "application/json", NOW);
        expect(typeof r.ok).toBe("boolean");
      }),
    );
  });

  it("the secret name; the rate limit admits perMinute in any rolling minute", () => {
    expect(ingestTokenSecretName("custom:12:4")).toBe("WATCH_INGEST_TOKEN__CUSTOM_12_4");
    const rate = { times: [] as number[] };
    for (let i = 0; i < 3; i++) expect(admitIngest(rate, 1000 + i, 3)).toBe(0);
    expect(admitIngest(rate, 1010, 3)).toBe(60_000 - 10);
    expect(admitIngest(rate, 61_000, 3)).toBe(0);
  });
});

describe("bot rules", () => {
  it("the frontier keeps the earliest time each amount was reached; duplicates and reordering change nothing", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ cum: fc.bigInt({ min: 0n, max: 20n }), at: fc.integer({ min: 0, max: 100 }) }), {
          maxLength: 30,
        }),
        fc.integer({ min: 0, max: 20 }),
        (ls, target) => {
          let a: { cum: bigint; at: number }[] = [];
          for (const l of ls) a = addLevel(a, l);
          let b: { cum: bigint; at: number }[] = [];
          for (const l of [...ls].reverse().concat(ls)) b = addLevel(b, l);
          const want = ls
            .filter((l) => l.cum >= BigInt(target))
            .reduce<number | null>((m, l) => (m === null || l.at < m ? l.at : m), null);
          expect(firstReached(a, BigInt(target))).toBe(want);
          expect(firstReached(b, BigInt(target))).toBe(want);
        },
      ),
    );
  });

  it("reported / pending / late / missed / held", () => {
    const base = { fillAt: 1000, windowMs: 100, silent: false, lastContactAt: 1100, holdUntil: null };
    expect(judgeBotFill({ ...base, reachedAt: 1040, now: 1001 })).toEqual({ kind: "pending" });
    expect(judgeBotFill({ ...base, reachedAt: 1040, now: 1100 })).toEqual({
      kind: "reported",
      firstAt: 1040,
      lagMs: 40,
    });
    expect(judgeBotFill({ ...base, reachedAt: null, now: 1099 })).toEqual({ kind: "pending" });
    expect(judgeBotFill({ ...base, reachedAt: null, now: 1101 })).toEqual({ kind: "missed" });
    expect(judgeBotFill({ ...base, reachedAt: 1300, now: 1400 })).toEqual({
      kind: "late",
      firstAt: 1300,
      delayMs: 300,
    });
    expect(judgeBotFill({ ...base, reachedAt: null, now: 1101, silent: true })).toEqual({ kind: "held" });
    expect(judgeBotFill({ ...base, reachedAt: null, now: 1101, holdUntil: 1200 })).toEqual({ kind: "held" });
    // No request from the bot since the deadline: held (it may be down), not missed.
    expect(judgeBotFill({ ...base, reachedAt: null, now: 1500, lastContactAt: 1099 })).toEqual({ kind: "held" });
    expect(judgeBotFill({ ...base, reachedAt: null, now: 1500, lastContactAt: null })).toEqual({ kind: "held" });
    expect(botPassResult([{ kind: "reported", firstAt: 1, lagMs: 1 }, { kind: "missed" }])).toBe("fail");
    expect(botPassResult([{ kind: "reported", firstAt: 1, lagMs: 1 }])).toBe("pass");
    expect(botPassResult([{ kind: "late", firstAt: 1, delayMs: 1 }])).toBeNull();
  });

  it("a phantom needs the window to pass and REST read up to the newest trade after it", () => {
    const p = { reported: { cum: 5n, at: 0 }, exchangeCum: 0n, windowMs: 100 };
    expect(phantomCheck({ ...p, caughtUpAt: 250, now: 199 })).toBe("pending");
    expect(phantomCheck({ ...p, caughtUpAt: 150, now: 300 })).toBe("pending");
    expect(phantomCheck({ ...p, caughtUpAt: null, now: 300 })).toBe("pending");
    expect(phantomCheck({ ...p, caughtUpAt: 250, now: 300 })).toBe("phantom");
    expect(phantomCheck({ ...p, exchangeCum: 5n, caughtUpAt: null, now: 0 })).toBe("confirmed");
  });
});

// ---------------------------------------------------------------- the ledger

const W = 1_000;
const opts = { windowMs: W, silenceMs: 5_000, lateWatchMs: 30_000, skewMs: 100, maxOrders: 1_000, maxFills: 5_000 };

function fill(i: number, order: string, size: bigint, at: number, coi = `c${order}`): ExchangeFill {
  return {
    key: `${i}:buy`,
    tradeId: String(i),
    orderIndex: order,
    clientOrderIndex: coi,
    market: 0,
    side: "buy",
    size,
    sizeText: "x",
    fillAt: at,
  };
}

function report(order: string | null, cum: bigint, at: number, coi: string | null = null) {
  return { orderIndex: order, clientOrderIndex: coi, filledBase: "x", filled: cum, seenAt: at };
}

describe("bot ledger", () => {
  it("partial fills: each level must be reached; a report of the final amount covers the earlier fills", () => {
    const l = new BotLedger(opts, 0);
    l.noteContact(0);
    l.noteRestFill(fill(1, "9", 2n, 100));
    l.noteRestFill(fill(2, "9", 3n, 200));
    l.noteReport(report("9", 2n, 150), 160);
    l.noteContact(160);
    expect(l.judge(1300).decided.map((d) => d.judgement.kind)).toEqual(["reported"]);
    l.noteContact(1250);
    const r = l.judge(1300);
    expect(r.decided.map((d) => [d.fill.tradeId, d.level, d.judgement.kind])).toEqual([["2", 5n, "missed"]]);
    l.noteReport(report("9", 5n, 2000), 2000);
    const late = l.judge(2001);
    expect(late.lateAfterMiss.map((d) => [d.fill.tradeId, d.judgement])).toEqual([
      ["2", { kind: "late", firstAt: 2000, delayMs: 1800 }],
    ]);
  });

  it("a client-order-index-only report is matched once the exchange shows the order", () => {
    const l = new BotLedger(opts, 0);
    l.noteContact(0);
    l.noteReport(report(null, 4n, 120, "77"), 130);
    l.noteRestFill(fill(1, "9", 4n, 100, "77"));
    expect(l.judge(2000).decided[0]!.judgement).toEqual({ kind: "reported", firstAt: 120, lagMs: 20 });
  });

  it("a phantom: the bot reports what the exchange never shows, once REST caught up; once per amount", () => {
    const l = new BotLedger(opts, 0);
    l.noteContact(0);
    l.noteCaughtUp(0);
    l.noteReport(report("5", 1n, 1100), 1100);
    l.noteReport(report(null, 1n, 1100, "42"), 1100);
    expect(l.judge(2000).phantoms).toEqual([]);
    l.noteCaughtUp(3200);
    const p = l.judge(3300).phantoms;
    expect(p.map((x) => [x.orderIndex, x.clientOrderIndex, x.reported])).toEqual([
      ["5", null, 1n],
      [null, "42", 1n],
    ]);
    expect(l.judge(3000).phantoms).toEqual([]);
  });

  it("never a phantom: a bot's start-up replay, a return from silence, or a report from before REST covered it", () => {
    const l = new BotLedger(opts, 0);
    l.noteCaughtUp(5_000);
    // The first contact replays old orders (fills from before the watch): not judged.
    l.noteContact(5_200);
    l.noteReport(report("1", 3n, 5_200), 5_200);
    // Inside the first window after REST coverage began: not judged either.
    l.noteReport(report("2", 3n, 5_900), 5_900);
    // Back from silence: its replay is not judged.
    l.noteContact(20_000);
    l.noteReport(report("3", 3n, 20_100), 20_100);
    l.noteCaughtUp(30_000);
    expect(l.judge(30_000).phantoms).toEqual([]);
    expect(l.exemptReports).toBe(3);
    // A report after those windows is judged.
    l.noteContact(39_000);
    l.noteContact(40_100);
    l.noteReport(report("4", 3n, 40_100), 40_100);
    l.noteCaughtUp(42_200);
    expect(l.judge(42_200).phantoms.map((p) => p.orderIndex)).toEqual(["4"]);
  });

  it("an order that partly filled before the watch: no false phantom or miss", () => {
    const l = new BotLedger(opts, 0);
    l.noteContact(0);
    l.noteWsOrder("9", "c9", 0, 10n, 50);
    l.noteRestFill(fill(1, "9", 3n, 100));
    l.noteRestFill(fill(2, "9", 2n, 200));
    l.noteWsOrder("9", "c9", 0, 13n, 110);
    l.noteWsOrder("9", "c9", 0, 15n, 210);
    l.noteReport(report("9", 13n, 120), 120);
    l.noteReport(report("9", 15n, 220), 220);
    l.noteCaughtUp(300);
    const r = l.judge(5000);
    // The levels are understated (REST may lag the frames), never overstated: both fills are covered.
    expect(r.decided.map((d) => d.judgement.kind)).toEqual(["reported", "reported"]);
    expect(r.decided.every((d) => d.level <= 15n)).toBe(true);
    expect(r.phantoms).toEqual([]);
    expect(l.exchangeCum("9")).toBe(15n);
  });

  it("frames ahead of REST never overstate a level", () => {
    const l = new BotLedger(opts, 0);
    l.noteContact(0);
    for (const c of [1n, 2n, 6n]) l.noteWsOrder("9", "c9", 0, c, 100 * Number(c));
    l.noteRestFill(fill(1, "9", 1n, 100));
    l.noteRestFill(fill(2, "9", 1n, 200));
    l.noteReport(report("9", 2n, 210), 210);
    expect(l.judge(5000).decided.map((d) => [d.level, d.judgement.kind])).toEqual([
      [1n, "reported"],
      [2n, "reported"],
    ]);
  });

  it("silence holds misses back; after contact resumes the bot has its window before a miss is decided", () => {
    const l = new BotLedger(opts, 0);
    l.noteContact(0);
    l.noteRestFill(fill(1, "9", 1n, 6000));
    expect(l.silent(7100)).toBe(true);
    expect(l.judge(7100).decided).toEqual([]);
    expect(l.noteContact(8000)).toEqual({ resumed: true });
    expect(l.judge(8500).decided).toEqual([]);
    l.noteReport(report("9", 1n, 6100), 8600);
    expect(l.judge(9100).decided[0]!.judgement.kind).toBe("reported");
  });

  it("after an eviction, judged fills count toward amounts but are never judged again; a restored miss can still be late", () => {
    const l = new BotLedger(opts, 0);
    l.noteContact(0);
    l.noteContact(5_000);
    l.noteRestFill(fill(1, "9", 2n, 100), "done");
    l.noteRestFill(fill(2, "9", 3n, 200), "missed");
    l.noteRestFill(fill(3, "9", 1n, 300));
    l.noteReport(report("9", 6n, 4_000), 4_000);
    const r = l.judge(5_000);
    expect(r.decided.map((d) => [d.fill.tradeId, d.level, d.judgement.kind])).toEqual([["3", 6n, "late"]]);
    expect(r.lateAfterMiss.map((d) => d.fill.tradeId)).toEqual(["2"]);
    expect(l.judge(6_000).decided).toEqual([]);
  });

  it("fills from before the bot first reported are not held against it", () => {
    const l = new BotLedger(opts, 0);
    l.noteRestFill(fill(1, "9", 1n, 100));
    expect(l.judge(20_000).decided).toEqual([]);
    l.noteContact(20_000);
    expect(l.judge(25_000).decided).toEqual([]);
    expect(l.beforeFirstContact).toBe(1);
  });

  it("model: random fills, duplicated and reordered reports, frames and late REST pages → exactly the withheld fills are missed", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            order: fc.integer({ min: 0, max: 6 }),
            size: fc.bigInt({ min: 1n, max: 5n }),
            gap: fc.integer({ min: 0, max: 400 }),
            lag: fc.integer({ min: 0, max: W - 1 }),
            withheld: fc.boolean(),
            dup: fc.integer({ min: 1, max: 3 }),
            restDelay: fc.integer({ min: 0, max: 3 * W }),
            // The session was down (a reconnect): no frame for this fill.
            frameLost: fc.boolean(),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.integer({ min: 0, max: 1000 }),
        (spec, seed) => {
          const l = new BotLedger(opts, 0);
          let t = 1000;
          const cum = new Map<string, bigint>();
          type Ev = { at: number; seq: number; run: () => void; rest?: boolean };
          const evs: Ev[] = [];
          let seq = 0;
          const withheldKeys = new Set<string>();
          const withheldOrders = new Set<string>();
          // REST pages come late, but in trade-id order (one cursor).
          let restAt = 0;
          spec.forEach((s, i) => {
            t += s.gap;
            const order = String(1000 + s.order + (withheldOrders.has(String(1000 + s.order)) ? 100 * i : 0));
            const c = (cum.get(order) ?? 0n) + s.size;
            cum.set(order, c);
            const f = fill(i + 1, order, s.size, t);
            restAt = Math.max(restAt, t + s.restDelay);
            evs.push({ at: restAt, seq: seq++, run: () => l.noteRestFill(f), rest: true });
            if (!s.frameLost)
              evs.push({ at: t + 20, seq: seq++, run: () => l.noteWsOrder(order, `c${order}`, 0, c, t + 20) });
            if (s.withheld) {
              withheldKeys.add(f.key);
              // A later report of a higher amount would cover this fill (late): keep such orders apart.
              withheldOrders.add(order);
            } else
              for (let d = 0; d < s.dup; d++)
                evs.push({
                  at: t + s.lag + d * 37,
                  seq: seq++,
                  run: () => l.noteReport(report(order, c, t + s.lag), t + s.lag + d * 37),
                });
          });
          // Heartbeats all along; REST catches up at the end.
          for (let h = 0; h <= t + 5 * W; h += 1000) evs.push({ at: h, seq: seq++, run: () => l.noteContact(h) });
          // Reorder within the same millisecond-ish neighbourhood (seeded), then replay in time order.
          evs.sort(
            (a, b) =>
              a.at - b.at ||
              (a.rest && b.rest ? a.seq - b.seq : ((a.seq * 7919 + seed) % 97) - ((b.seq * 7919 + seed) % 97)),
          );
          const missed = new Set<string>();
          const alerts: string[] = [];
          for (const e of evs) {
            e.run();
            const r = l.judge(e.at);
            for (const d of r.decided) if (d.judgement.kind === "missed") missed.add(d.fill.key);
            for (const p of r.phantoms) alerts.push(`phantom ${p.orderIndex}`);
          }
          l.noteCaughtUp(t + 5 * W);
          const end = l.judge(t + 10 * W);
          for (const d of end.decided) if (d.judgement.kind === "missed") missed.add(d.fill.key);
          for (const p of end.phantoms) alerts.push(`phantom ${p.orderIndex}`);
          expect(alerts).toEqual([]);
          expect([...missed].sort()).toEqual([...withheldKeys].sort());
          expect(l.pendingFills).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
