/**
 * The soak adapter for the check core as it is on main before issue 16: the order path
 * (`OrderPathDriver` + `decide`), tick admission, the hard bound and the lock rule, wired the way
 * the model test's harness wires them, with the frame path of the Durable Object (parseFrame,
 * OrderBook, identity match, fill reducer) on real frame texts. That core has no session stage and
 * no flatten (both live in the Durable Object), so it covers the faults that act on frames, the
 * account channels, sendTx and REST, and position_drift is not measured here (soak (b) measures it
 * on the real Worker).
 */
import { OrderPathDriver, type OrderPathEffects, type OrderPathRecord } from "./driver.ts";
import type { Outcome } from "../../../worker/monitor/check/decide.ts";
import {
  newOrderFacts,
  noteLookup,
  noteWsOrder,
  observed,
  resolution,
  type OrderFacts,
  type OrderLookup,
} from "../../../worker/monitor/check/order.ts";
import { checkBoundMs } from "../../../worker/monitor/check/phases.ts";
import { admitTick, boundOutcome } from "../../../worker/monitor/check/ticks.ts";
import { DIAGNOSIS_STAGE } from "../../../worker/monitor/diagnosis.ts";
import { parseFrame } from "../../../worker/lighter/messages.ts";
import { OrderBook } from "../../../worker/lighter/orderbook.ts";
import type { FaultName } from "../../sim/faults.ts";
import { CATALOGUE } from "../catalogue.ts";
import type { AdapterFactory, MachineUnderSoak, SoakAlert, SoakCheckResult } from "./adapter.ts";
import { ACCOUNT, MARKET, MIN_BASE, SIZE_DECIMALS, type RestOrder, type SoakWorld, type WireTx } from "./world.ts";

interface Running extends OrderPathRecord {
  tickKey: string;
  startedAt: number;
  boundAt: number;
}

interface Stored {
  running: Running | null;
  lock: OrderFacts | null;
  /** The latest tick keys (a repeated key runs nothing); pruned to 32 like the object's retention. */
  ticks: string[];
  signed: Record<string, WireTx>;
  seq: number;
  failing: boolean;
}

const TICKS_KEPT = 32;
const GRACE_MS = 15_000;
const COVERED_LAYERS = new Set(["frames", "orders", "tx", "rest"]);

class TodayMachine implements MachineUnderSoak {
  readonly name = "main before #16: OrderPathDriver + decide (order path only)";
  readonly covers = (Object.keys(CATALOGUE) as FaultName[]).filter((f) => COVERED_LAYERS.has(CATALOGUE[f].layer));
  readonly flattens = false;
  readonly async = true;
  readonly results: SoakCheckResult[] = [];
  readonly alerts: SoakAlert[] = [];
  writes = 0;
  frameCpuUs = 0;
  private stored: string;
  private driver!: OrderPathDriver;
  private epoch = { alive: true };
  private conn: number | null = null;
  private book = new OrderBook(MARKET);
  private bookReady = false;
  private closeAt: number | null = null;
  private readonly world: SoakWorld;
  private readonly ts: number;

  constructor(world: SoakWorld, ts: number) {
    this.world = world;
    this.ts = ts;
    this.stored = JSON.stringify({ running: null, lock: null, ticks: [], signed: {}, seq: 0, failing: false });
    this.newDriver();
  }

  private read(): Stored {
    return JSON.parse(this.stored) as Stored;
  }

  private write(s: Stored): void {
    this.writes++;
    this.stored = JSON.stringify(s, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  }

  busy(): boolean {
    const s = this.read();
    return s.running !== null || (s.lock !== null && !resolution(s.lock, this.world.now).resolved);
  }

  storage(): { rows: number; bound: number; bytes: number } {
    const s = this.read();
    return { rows: s.ticks.length + Object.keys(s.signed).length, bound: TICKS_KEPT * 2, bytes: this.stored.length };
  }

  restart(): void {
    this.epoch.alive = false;
    if (this.conn !== null) this.world.close(this.conn);
    this.conn = null;
    this.bookReady = false;
    this.book = new OrderBook(MARKET);
    const s = this.read();
    if (s.running) {
      s.running.state.interrupted = true;
      this.write(s);
    }
    this.newDriver();
    // The constructor arms the alarm at once (resume).
    this.alarmAt(this.world.now);
  }

  tick(key: string): void {
    const s = this.read();
    if (s.ticks.includes(key)) return;
    const now = this.world.now;
    const d = admitTick({ runningCheckId: s.running?.checkId ?? null, unresolved: s.lock, now });
    s.ticks = [...s.ticks, key].slice(-TICKS_KEPT);
    if (d.kind === "skip_tick") {
      this.write(s);
      return;
    }
    const checkId = `c${++s.seq}`;
    if (d.kind === "skip_check") {
      this.write(s);
      this.record(
        checkId,
        key,
        now,
        now,
        { verdict: "skipped", diagnosis: d.diagnosis, reasons: [], evidence: {} },
        [],
      );
      return;
    }
    const coi = String(1_000_000 + s.seq);
    const order = newOrderFacts({ coi, account: ACCOUNT, market: MARKET, txHash: "", expiredAt: 0 });
    s.running = {
      checkId,
      tickKey: key,
      startedAt: now,
      boundAt: now + checkBoundMs(this.ts),
      state: { phase: "connect", phaseSince: now, round: 1, interrupted: false },
      order,
    };
    this.write(s);
    this.ensureSession();
    this.alarmAt(s.running.boundAt);
    this.maybeSign();
  }

  /** Signs once the book is ready (the session stages are the object's, not this core's). */
  private maybeSign(): void {
    const s = this.read();
    const r = s.running;
    if (!r || r.state.phase !== "connect" || !this.bookReady) return;
    const top = this.book.top();
    const ask = top.bestAsk ? Number(top.bestAsk.price) : this.world.top().ask;
    const tx = this.sign(s, r.order.coi, ask);
    r.order = { ...r.order, txHash: tx.hash, expiredAt: tx.expiredAt };
    r.state = { phase: "send", phaseSince: this.world.now, round: 1, interrupted: r.state.interrupted };
    s.lock = r.order;
    this.write(s);
    void this.driver.kick(r.checkId);
  }

  private sign(s: Stored, coi: string, ask: number): WireTx {
    const tx: WireTx = {
      hash: `h${coi}n${this.world.nextNonce}`,
      nonce: this.world.nextNonce,
      coi,
      isAsk: false,
      base: MIN_BASE,
      price: ask + 100,
      reduceOnly: false,
      expiredAt: this.world.now + Math.round(120_000 * this.ts),
    };
    s.signed[tx.hash] = tx;
    // Keep the signed txs of the latest checks only.
    const keys = Object.keys(s.signed);
    for (const k of keys.slice(0, Math.max(0, keys.length - TICKS_KEPT))) delete s.signed[k];
    return tx;
  }

  private ensureSession(): void {
    this.closeAt = null;
    if (this.conn !== null) return;
    const epoch = this.epoch;
    const conn = this.world.connect({
      frame: (text) => {
        if (epoch.alive && this.conn === conn) this.onFrame(text);
      },
      closed: () => {
        if (epoch.alive && this.conn === conn) {
          this.conn = null;
          this.bookReady = false;
        }
      },
      failed: () => {
        if (epoch.alive && this.conn === conn) this.conn = null;
      },
    });
    this.conn = conn;
    this.book = new OrderBook(MARKET);
    this.bookReady = false;
    this.world.subscribe(conn, `order_book/${MARKET}`);
    this.world.subscribe(conn, `account_orders/${MARKET}/${ACCOUNT}`);
    this.world.subscribe(conn, `account_all_orders/${ACCOUNT}`);
  }

  private onFrame(text: string): void {
    const t0 = performance.now();
    const ev = parseFrame(text);
    if (ev.kind === "order_book_snapshot" || ev.kind === "order_book_update") {
      const r = this.book.apply(ev);
      if (r.kind === "gap") {
        this.book = new OrderBook(MARKET);
        this.bookReady = false;
        if (this.conn !== null) this.world.subscribe(this.conn, `order_book/${MARKET}`);
      } else if (ev.kind === "order_book_snapshot") {
        this.bookReady = true;
        this.frameCpuUs += (performance.now() - t0) * 1000;
        this.maybeSign();
        return;
      }
    } else if (ev.kind === "account_orders" || ev.kind === "account_all_orders") {
      const s = this.read();
      const run = s.running;
      let changed = false;
      if (run) {
        for (const o of ev.orders) {
          const ob = observed(
            o,
            ev.kind === "account_orders" ? (ev.account?.toString() ?? ACCOUNT) : ACCOUNT,
            SIZE_DECIMALS,
          );
          const r = noteWsOrder(run.order, ob, this.world.now, ev.kind);
          if (r.match === "unrelated") continue;
          run.order = r.facts;
          s.lock = r.facts;
          changed = true;
        }
      }
      if (changed && run) {
        this.write(s);
        void this.driver.kick(run.checkId);
      }
    } else if (ev.kind === "ping" && this.conn !== null) this.world.pong(this.conn);
    this.frameCpuUs += (performance.now() - t0) * 1000;
  }

  private alarmAt(at: number): void {
    const epoch = this.epoch;
    this.world.at(at, () => {
      if (epoch.alive) this.alarm();
    });
  }

  /** The alarm: the hard bound first, then the phase logic; between checks, the lock look-up. */
  private alarm(): void {
    const s = this.read();
    const now = this.world.now;
    if (s.running && now >= s.running.boundAt) {
      this.conclude(s.running, boundOutcome(s.running.state.phase, s.running.order, now));
      return;
    }
    if (s.running) {
      if (s.running.state.phase === "connect") {
        this.ensureSession();
        this.maybeSign();
        return;
      }
      void this.driver.kick(s.running.checkId);
      return;
    }
    if (this.closeAt !== null && now >= this.closeAt && this.conn !== null) {
      this.world.close(this.conn);
      this.conn = null;
      this.closeAt = null;
    }
    if (s.lock && !resolution(s.lock, now).resolved) {
      const lock = s.lock;
      const epoch = this.epoch;
      this.world.lookupOrder(lock.coi, (order) =>
        this.world.lookupTx(lock.txHash, (tx) => {
          if (!epoch.alive) return;
          const cur = this.read();
          if (!cur.lock || cur.lock.coi !== lock.coi) return;
          cur.lock = noteLookup(cur.lock, { order: toLookup(order), tx }, this.world.now);
          this.write(cur);
          if (!resolution(cur.lock, this.world.now).resolved)
            this.alarmAt(this.world.now + Math.round(5_000 * this.ts));
        }),
      );
    }
  }

  private conclude(rec: OrderPathRecord, outcome: Outcome): void {
    const s = this.read();
    const run = s.running;
    if (!run || run.checkId !== rec.checkId) return;
    s.lock = rec.order.transmissions > 0 ? rec.order : null;
    s.running = null;
    const failing = outcome.verdict === "fail";
    if (failing && !s.failing)
      this.alerts.push({ key: "checks", kind: "trigger", checkId: run.checkId, at: this.world.now });
    if (outcome.verdict === "pass" && s.failing)
      this.alerts.push({ key: "checks", kind: "resolve", checkId: run.checkId, at: this.world.now });
    if (failing) s.failing = true;
    else if (outcome.verdict === "pass") s.failing = false;
    this.write(s);
    this.record(run.checkId, run.tickKey, run.startedAt, run.boundAt, outcome, [run.order.coi]);
    this.closeAt = this.world.now + Math.round(GRACE_MS * this.ts);
    this.alarmAt(this.closeAt);
    if (s.lock && !resolution(s.lock, this.world.now).resolved)
      this.alarmAt(this.world.now + Math.round(5_000 * this.ts));
  }

  private record(id: string, tick: string, startedAt: number, boundAt: number, o: Outcome, cois: string[]): void {
    this.results.push({
      id,
      tick,
      startedAt,
      boundAt,
      concludedAt: this.world.now,
      verdict: o.verdict,
      stage:
        o.verdict === "fail" || o.verdict === "skipped" ? (o.diagnosis ? DIAGNOSIS_STAGE[o.diagnosis] : null) : null,
      diagnosis: o.diagnosis,
      cois,
    });
  }

  private newDriver(): void {
    const epoch = { alive: true };
    this.epoch = epoch;
    const world = this.world;
    const fx: OrderPathEffects = {
      now: () => world.now,
      load: (id) => {
        if (!epoch.alive) return null;
        const r = this.read().running;
        return r && r.checkId === id && r.state.phase !== "connect" ? r : null;
      },
      save: (rec) => {
        if (!epoch.alive) return;
        const s = this.read();
        if (!s.running || s.running.checkId !== rec.checkId) return;
        s.running = { ...s.running, state: rec.state, order: rec.order };
        s.lock = rec.order;
        this.write(s);
      },
      options: (rec) => ({
        timeScale: this.ts,
        maxTransmissions: 3,
        channels: ["account_orders", "account_all_orders"],
        fillLatencyDegradedMs: 5_000,
        orderCreatedAt: this.read().running?.startedAt ?? rec.state.phaseSince,
      }),
      transmit: (rec) =>
        new Promise((resolve) => {
          const tx = this.read().signed[rec.order.txHash];
          if (!tx) return resolve({ kind: "no_reply", reason: "signed tx missing" });
          world.sendTx({ ...tx, base: BigInt(tx.base) }, (r) => resolve(r));
        }),
      resign: (rec) => {
        const s = this.read();
        const ask = world.top().ask;
        const tx = this.sign(s, rec.order.coi, ask);
        this.write(s);
        return Promise.resolve({ txHash: tx.hash, expiredAt: tx.expiredAt });
      },
      lookup: (rec) =>
        new Promise((resolve) =>
          world.lookupOrder(rec.order.coi, (order) =>
            world.lookupTx(rec.order.txHash, (tx) => resolve({ order: toLookup(order), tx })),
          ),
        ),
      wakeAt: (_id, at) => this.alarmAt(at),
      entered: () => undefined,
      conclude: (rec, outcome) => {
        if (epoch.alive) this.conclude(rec, outcome);
      },
      failed: (rec, error) => {
        if (epoch.alive)
          this.conclude(rec, { verdict: "fail", diagnosis: "send_failed", reasons: [], evidence: { error } });
      },
    };
    this.driver = new OrderPathDriver(fx);
  }
}

function toLookup(r: RestOrder): OrderLookup {
  if (r.kind === "found")
    return {
      kind: "found",
      order: {
        account: ACCOUNT,
        owner: ACCOUNT,
        market: MARKET,
        clientOrderIndex: r.coi!,
        orderIndex: r.orderIndex!,
        status: r.status!,
        filled: r.filled!,
      },
    };
  if (r.kind === "absent") return { kind: "absent" };
  return { kind: "unknown", reason: r.reason ?? "REST error" };
}

export const todayAdapter: AdapterFactory = (world, o) => new TodayMachine(world, o.timeScale);
