/**
 * The trades walk (LIVE.md L.13.1): newest page first, back through next_cursor to the last trade
 * seen, each trade once; what the budget cannot reach is a gap with its range, never a silent skip.
 * A model test drives the walk against an exchange that adds trades between pages.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  maxWalkPages,
  newWalk,
  nextCursor,
  onPage,
  resumeMark,
  type TradeMark,
  type WalkGap,
  type WalkState,
} from "../../../worker/monitor/watch/trades-walk.ts";
import { callsPerMinute, isRateLimited } from "../../../worker/monitor/watch/budget.ts";

const t = (id: number, at = id * 10): TradeMark => ({ id: BigInt(id), at });
const same = (x: TradeMark) => x;

/** An exchange's /trades: newest first, `limit` rows, next_cursor = the id of the next older row. */
function page(ids: readonly number[], cursor: string | null, limit: number): { rows: TradeMark[]; next: string } {
  const desc = [...ids].sort((a, b) => b - a);
  const start = cursor === null ? 0 : desc.findIndex((id) => id <= Number(cursor));
  const rows = start < 0 ? [] : desc.slice(start, start + limit).map((id) => t(id));
  const after = start < 0 ? undefined : desc[start + limit];
  return { rows, next: after === undefined ? "" : String(after) };
}

describe("trades walk", () => {
  it("the first read starts after the newest trade; an empty account starts before every trade", () => {
    expect(onPage(newWalk(), [t(7), t(6)], same, "5", 5).state.seen).toEqual(t(7));
    const empty = onPage(newWalk(), [], same, "", 5);
    expect(empty.state.seen).toEqual({ id: -1n, at: null });
    expect(empty.fresh).toEqual([]);
  });

  it("walks back through next_cursor until the last trade seen, and only then moves the mark", () => {
    const ids = Array.from({ length: 250 }, (_, i) => i + 1);
    let s: WalkState = newWalk(t(20));
    const fresh: bigint[] = [];
    let p = page(ids, nextCursor(s), 100);
    let o = onPage(s, p.rows, same, p.next, 10);
    expect(o.done).toBe(false);
    expect(o.state.seen).toEqual(t(20));
    s = o.state;
    fresh.push(...o.fresh.map((x) => x.id));
    while (!o.done) {
      p = page(ids, nextCursor(s), 100);
      o = onPage(s, p.rows, same, p.next, 10);
      s = o.state;
      fresh.push(...o.fresh.map((x) => x.id));
    }
    expect(o.gap).toBeNull();
    expect(s.seen).toEqual(t(250));
    expect(fresh.length).toBe(230);
    expect(new Set(fresh).size).toBe(230);
    expect(fresh.every((id) => id > 20n)).toBe(true);
  });

  it("a walk that needs more pages than the budget gives ends in a gap naming the unread range", () => {
    const ids = Array.from({ length: 500 }, (_, i) => i + 1);
    let s: WalkState = newWalk(t(10));
    let o;
    do {
      const p = page(ids, nextCursor(s), 100);
      o = onPage(s, p.rows, same, p.next, 3);
      s = o.state;
    } while (!o.done);
    expect(o.gap).toEqual({ afterId: "10", beforeId: "201", fromAt: 100, toAt: 2010, pages: 3 });
    expect(s.seen).toEqual(t(500));
  });

  it("rows out of order or repeated are sorted and de-duplicated by trade id", () => {
    const o = onPage(newWalk(t(3)), [t(4), t(6), t(5), t(6), t(2)], same, "1", 5);
    expect(o.fresh.map((x) => x.id)).toEqual([6n, 5n, 4n]);
    expect(o.done).toBe(true);
  });

  it("resumes no later than just before the oldest undecided fill", () => {
    expect(resumeMark(t(20), [t(25), t(15)])).toEqual({ id: 14n, at: 150 });
    expect(resumeMark(t(20), [])).toEqual(t(20));
    expect(resumeMark(null, [t(3)])).toBeNull();
  });

  it("budget: trades is at most 40 a minute on Standard; a walk keeps one call for evidence", () => {
    expect(callsPerMinute("standard", "trades", 60)).toBe(40);
    expect(callsPerMinute("standard", "trades", 12)).toBe(12);
    expect(callsPerMinute("premium", "trades", 7200)).toBe(12);
    expect(maxWalkPages(12)).toBe(11);
    expect(maxWalkPages(1)).toBe(1);
  });

  it("rate limits: 429, 405 and codes 23000-23003 are rate limits; a 405 with another code is not", () => {
    expect(isRateLimited(429, 23000)).toBe(true);
    expect(isRateLimited(405, 23002)).toBe(true);
    expect(isRateLimited(405, null)).toBe(true);
    expect(isRateLimited(200, 23003)).toBe(true);
    expect(isRateLimited(405, 20001)).toBe(false);
    expect(isRateLimited(500, 29500)).toBe(false);
  });

  it("model: every trade after the start is read exactly once or lies inside a reported gap", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 140 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 30 }),
        (arrivals, maxPages, limit) => {
          const ids: number[] = [];
          let next = 1;
          const add = (n: number) => {
            for (let i = 0; i < n; i++) ids.push(next++);
          };
          add(5);
          let s: WalkState = newWalk(t(5));
          const read = new Map<number, number>();
          const gaps: WalkGap[] = [];
          /** One reconciliation: pages until the walk is done; `arriving` trades come per page read. */
          const reconcile = (arriving: number) => {
            let o;
            do {
              const p = page(ids, nextCursor(s), limit);
              o = onPage(s, p.rows, same, p.next, maxPages, limit);
              s = o.state;
              for (const r of o.fresh) read.set(Number(r.id), (read.get(Number(r.id)) ?? 0) + 1);
              if (o.gap) gaps.push(o.gap);
              if (!o.done) add(arriving);
            } while (!o.done);
            expect(s.walk).toBeNull();
          };
          for (const n of arrivals) {
            add(n);
            // Trades keep arriving while the walk pages back.
            reconcile(1);
          }
          // Trades that arrived during the final walk are read by the next reconciliation.
          reconcile(0);
          for (const [, n] of read) expect(n).toBe(1);
          for (const id of ids.filter((x) => x > 5)) {
            const inGap = gaps.some((g) => id > Number(g.afterId) && id < Number(g.beforeId));
            expect(read.has(id) || inGap, `trade ${id}`).toBe(true);
          }
          // No gap when the budget covers the most one reconciliation can have to read: 140 arrivals,
          // the trades that came while the previous walk paged back (one a page), and the last trade seen.
          if (maxPages * limit >= 141 + maxPages) expect(gaps).toEqual([]);
          expect(s.seen!.id).toBe(BigInt(ids[ids.length - 1]!));
        },
      ),
      { numRuns: Number(process.env.FILLWATCH_MODEL_RUNS ?? 150) },
    );
  });
});
