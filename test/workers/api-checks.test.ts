/**
 * /checks, /checks/{id}, /orders/{coi}, /status and /logs against a real check inside workerd:
 * summaries vs ?detail=full, filters, a keyset cursor with no gaps or duplicates while new checks
 * are inserted, human units (decimal strings in market units with *_raw twins), ISO twins, and
 * /logs filters plus the NDJSON export.
 */
import { describe, expect, it } from "vitest";
import { api, monitorFor, runCron, waitFor } from "./helpers.ts";

const m = monitorFor("api_checks");
const q = `monitor=${encodeURIComponent(m.id)}`;

type Check = Record<string, unknown> & { id: string; market: number; started_at: number; verdict: string | null };

async function json<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await api(path, init);
  if (res.status !== 200 && res.status !== 202) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function allPages(path: string, limit: number, between?: () => Promise<void>): Promise<Check[]> {
  const out: Check[] = [];
  let cursor: string | null = null;
  do {
    const page: { checks: Check[]; next_cursor: string | null } = await json(
      `${path}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`,
    );
    out.push(...page.checks);
    cursor = page.next_cursor;
    if (between) await between();
  } while (cursor);
  return out;
}

let passId = "";

/** Waits until check `id` has its verdict and its flatten is over (the next check may start). */
async function settled(id: string): Promise<Check> {
  return waitFor(`check ${id} settled`, async () => {
    const c = await json<Check>(`/checks/${id}?${q}`);
    return c.state === "done" && c.flatten !== null ? c : null;
  });
}

describe("checks in human units", () => {
  it("a real passing check: amounts and prices as market decimals with *_raw, timestamps with *_iso", async () => {
    const run = await json<{ check_id: string }>(`/checks/run?${q}`, { method: "POST" });
    const done = await settled(run.check_id);
    expect(done.verdict).toBe("pass");
    passId = run.check_id;

    const full = await json<Check & { evidence: Record<string, unknown>; stages: Record<string, unknown> }>(
      `/checks/${passId}?${q}`,
    );
    expect(full.started_at_iso).toBe(new Date(full.started_at).toISOString());
    expect(full.finished_at_iso).toBe(new Date(full.finished_at as number).toISOString());
    const fill = full.stages.fill_seen as { at: number; at_iso: string };
    expect(fill.at_iso).toBe(new Date(fill.at).toISOString());
    const planned = full.evidence.planned_order as Record<string, string>;
    // The simulator's market 0 is ETH-like: 4 size decimals, 2 price decimals.
    expect(planned.base_amount).toMatch(/^\d+\.\d{4}$/);
    expect(planned.price).toMatch(/^\d+\.\d{2}$/);
    expect(planned.price_raw).toMatch(/^\d+$/);
    expect(planned.base_amount).toBe(
      `${planned.base_amount_raw!.slice(0, -4) || "0"}.${planned.base_amount_raw!.padStart(4, "0").slice(-4)}`,
    );
    expect(planned.price).toBe(`${planned.price_raw!.slice(0, -2)}.${planned.price_raw!.slice(-2)}`);
    expect(planned.notional_usd).toMatch(/^\d+(\.\d+)?$/);

    const order = await json<Record<string, unknown> & { events: Record<string, unknown>[] }>(
      `/orders/${full.client_order_index as string}?${q}`,
    );
    expect(order.base_amount).toBe(planned.base_amount);
    expect(order.base_amount_raw).toBe(planned.base_amount_raw);
    expect(order.price).toBe(planned.price);
    expect(order.filled_base).toMatch(/^\d+\.\d{4}$/);
    expect(BigInt(order.filled_base_raw as string)).toBeGreaterThan(0n);
    expect(order.seen_at_iso).toBe(new Date(order.seen_at as number).toISOString());
    for (const e of order.events) expect(e.at_iso).toBe(new Date(e.at as number).toISOString());

    const status = await json<{ monitors: Record<string, Record<string, unknown>>[] }>(`/status?${q}`);
    const mon = status.monitors[0]!;
    expect((mon.last_check as Record<string, unknown>).started_at_iso).toMatch(/Z$/);
    expect(typeof mon.budget!.notional_today_usd).toBe("string");
    expect(mon.budget!.day_start_iso).toMatch(/T00:00:00\.000Z$/);
  });

  it("stored frames stay byte-for-byte under ?detail=full; summaries carry no evidence", async () => {
    const summary = (await json<{ checks: Check[] }>(`/checks?${q}`)).checks;
    expect(summary.length).toBeGreaterThan(0);
    for (const c of summary) {
      expect(c).not.toHaveProperty("evidence");
      expect(c.started_at_iso).toBe(new Date(c.started_at).toISOString());
    }
    const full = (await json<{ checks: (Check & { evidence: Record<string, unknown> })[] }>(`/checks?${q}&detail=full`))
      .checks;
    const one = full.find((c) => c.id === passId)!;
    const byId = await json<Check & { evidence: Record<string, unknown> }>(`/checks/${passId}?${q}`);
    expect(one.evidence).toEqual(byId.evidence);
    expect(JSON.stringify(full).length).toBeGreaterThan(JSON.stringify(summary).length);
  });
});

/** A cron tick while paused is recorded at once as a skipped check (no session, nothing sent). */
let cronTick = 1_900_000_000_000;
async function pausedTicks(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const before = (await json<{ checks: Check[] }>(`/checks?${q}&limit=1`)).checks[0]?.id;
    await runCron("api_checks", (cronTick += 60_000));
    const after = (await json<{ checks: Check[] }>(`/checks?${q}&limit=1`)).checks[0]!.id;
    expect(after).not.toBe(before);
    ids.push(after);
  }
  return ids;
}

describe("filters and the cursor", () => {
  it("verdict, stage, diagnosis and time filters", async () => {
    // A manual start while a check runs is a 409 naming the running check; nothing is recorded.
    const a = await json<{ check_id: string }>(`/checks/run?${q}`, { method: "POST" });
    const busy = await api(`/checks/run?${q}`, { method: "POST" });
    expect(busy.status).toBe(409);
    expect(await busy.text()).toContain(a.check_id);
    expect((await settled(a.check_id)).verdict).toBe("pass");
    await json(`/pause?${q}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    const [b] = await pausedTicks(1);
    await json(`/resume?${q}`, { method: "POST" });
    const skipped = (await json<{ checks: Check[] }>(`/checks?${q}&verdict=skipped`)).checks;
    expect(skipped.map((c) => c.id)).toContain(b);
    expect(skipped.every((c) => c.verdict === "skipped")).toBe(true);
    const pass = (await json<{ checks: Check[] }>(`/checks?${q}&verdict=pass`)).checks;
    expect(pass.map((c) => c.id)).toEqual(expect.arrayContaining([passId, a.check_id]));
    expect(pass.every((c) => c.verdict === "pass")).toBe(true);
    expect((await json<{ checks: Check[] }>(`/checks?${q}&verdict=fail`)).checks).toEqual([]);
    const diag = (await json<{ checks: Check[] }>(`/checks?${q}&diagnosis=paused&stage=preflight`)).checks;
    expect(diag.map((c) => c.id)).toEqual([b]);
    const bRow = diag[0]!;
    const since = (
      await json<{ checks: Check[] }>(`/checks?${q}&since=${encodeURIComponent(bRow.started_at_iso as string)}`)
    ).checks;
    expect(since.every((c) => c.started_at >= bRow.started_at)).toBe(true);
    expect(since.map((c) => c.id)).toContain(b);
    const until = (await json<{ checks: Check[] }>(`/checks?${q}&until=${bRow.started_at}`)).checks;
    expect(until.every((c) => c.started_at < bRow.started_at)).toBe(true);
    expect(until.map((c) => c.id)).toContain(passId);
  });

  it("keyset pages: no gaps or duplicates while new checks arrive", async () => {
    // While paused, each cron tick is recorded at once as a skipped row.
    await json(`/pause?${q}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    await pausedTicks(6);
    const existing = (await json<{ checks: Check[] }>(`/checks?${q}&limit=500`)).checks.map((c) => c.id);
    const inserted: string[] = [];
    const paged = await allPages(`/checks?${q}`, 2, async () => {
      inserted.push(...(await pausedTicks(1)));
    });
    await json(`/resume?${q}`, { method: "POST" });
    const ids = paged.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(existing);
    // Newest first by (started_at, insertion order).
    for (let i = 1; i < paged.length; i++)
      expect(paged[i - 1]!.started_at).toBeGreaterThanOrEqual(paged[i]!.started_at);
    const now = (await json<{ checks: Check[] }>(`/checks?${q}&limit=500`)).checks.map((c) => c.id);
    expect(now.slice(0, inserted.length).reverse()).toEqual(inserted);
  });
});

describe("/logs", () => {
  it("level, event, check, text and time filters; NDJSON export of every matching row", async () => {
    const byCheck = await json<{ events: { check_id: string; event: string; at: number; at_iso: string }[] }>(
      `/logs?${q}&check=${passId}&limit=1000`,
    );
    expect(byCheck.events.length).toBeGreaterThan(3);
    expect(byCheck.events.every((e) => e.check_id === passId)).toBe(true);
    for (const e of byCheck.events) expect(e.at_iso).toBe(new Date(e.at).toISOString());
    const stages = await json<{ events: { event: string }[] }>(`/logs?${q}&event=check.stage&limit=1000`);
    expect(stages.events.length).toBeGreaterThan(0);
    expect(stages.events.every((e) => e.event.startsWith("check.stage."))).toBe(true);
    const warn = await json<{ events: { level: string }[] }>(`/logs?${q}&level=warn&limit=1000`);
    expect(warn.events.length).toBeGreaterThan(0);
    expect(warn.events.every((e) => e.level === "warn" || e.level === "error")).toBe(true);
    const text = await json<{ events: { event: string; data: unknown }[] }>(`/logs?${q}&q=PAUSE`);
    expect(text.events.length).toBeGreaterThan(0);
    expect(text.events.every((e) => JSON.stringify(e).toLowerCase().includes("pause"))).toBe(true);
    const first = byCheck.events[byCheck.events.length - 1]!;
    const windowed = await json<{ events: { at: number }[] }>(
      `/logs?${q}&check=${passId}&since=${first.at}&until=${first.at + 1}&limit=1000`,
    );
    expect(windowed.events.length).toBeGreaterThan(0);
    expect(windowed.events.every((e) => e.at === first.at)).toBe(true);

    const all = await json<{ events: { id: number }[] }>(`/logs?${q}&limit=1000`);
    const res = await api(`/logs?${q}`, { headers: { Accept: "application/x-ndjson" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const text2 = new TextDecoder().decode(await res.arrayBuffer());
    expect(text2.endsWith("\n")).toBe(true);
    const lines = text2
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: number; at_iso: string });
    // Without ?limit the export has every row (more than one JSON page of 100), newest first.
    expect(lines.length).toBeGreaterThanOrEqual(all.events.length);
    expect(lines.slice(-all.events.length).length).toBe(all.events.length);
    for (let i = 1; i < lines.length; i++) expect(lines[i - 1]!.id).toBeGreaterThan(lines[i]!.id);
    const capped = await api(`/logs?${q}&limit=5&level=info`, { headers: { Accept: "application/x-ndjson" } });
    expect(
      new TextDecoder()
        .decode(await capped.arrayBuffer())
        .trimEnd()
        .split("\n"),
    ).toHaveLength(5);
  });
});
