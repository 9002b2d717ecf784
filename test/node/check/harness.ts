/**
 * The check core wired to the model world the way the Durable Object wires it to Lighter: ticks go
 * through admitTick, the order path through OrderPathDriver (with the world as its effects), the
 * hard bound through boundOutcome, and everything durable is kept as JSON so a crash can drop the
 * in-memory driver and resume from what was stored.
 */
import { OrderPathDriver, type OrderPathEffects, type OrderPathRecord } from "../../../worker/monitor/check/driver.ts";
import type { Outcome } from "../../../worker/monitor/check/decide.ts";
import {
  newOrderFacts,
  noteLookup,
  noteWsOrder,
  resolution,
  type OrderFacts,
} from "../../../worker/monitor/check/order.ts";
import { checkBoundMs } from "../../../worker/monitor/check/phases.ts";
import { admitTick, boundOutcome } from "../../../worker/monitor/check/ticks.ts";
import { ACCOUNT, MARKET, type SignedTx, type World } from "./world.ts";

export const TIME_SCALE = 0.05;

interface Stored {
  running: (OrderPathRecord & { startedAt: number; boundAt: number; tickKey: string }) | null;
  lock: OrderFacts | null;
  ticks: Record<string, string | null>;
  verdicts: Record<string, { outcome: Outcome; at: number; boundAt: number; startedAt: number }>;
  signed: Record<string, SignedTx>;
  seq: number;
}

export class Harness {
  private stored: string;
  private driver: OrderPathDriver;
  /** Every CreateOrder signed, with whether the monitor's own lock was clear at that moment. */
  readonly signings: { at: number; lockClear: boolean }[] = [];
  readonly lockedDuring: number[] = [];

  private readonly world: World;

  constructor(world: World) {
    this.world = world;
    this.stored = JSON.stringify({ running: null, lock: null, ticks: {}, verdicts: {}, signed: {}, seq: 0 } as Stored);
    this.driver = this.newDriver();
  }

  private read(): Stored {
    return JSON.parse(this.stored) as Stored;
  }

  private write(s: Stored): void {
    this.stored = JSON.stringify(s);
  }

  get verdicts(): Stored["verdicts"] {
    return this.read().verdicts;
  }

  get ticks(): Stored["ticks"] {
    return this.read().ticks;
  }

  get running(): Stored["running"] {
    return this.read().running;
  }

  /** A hard crash: in-flight work is abandoned; the next event resumes from storage. */
  crash(): void {
    this.driver = this.newDriver();
    const s = this.read();
    if (s.running) {
      s.running.state.interrupted = true;
      this.write(s);
    }
  }

  async tick(key: string): Promise<void> {
    const s = this.read();
    if (key in s.ticks) return;
    const now = this.world.now;
    const d = admitTick({ runningCheckId: s.running?.checkId ?? null, unresolved: s.lock, now });
    if (d.kind === "skip_tick") {
      s.ticks[key] = null;
      this.write(s);
      return;
    }
    const checkId = `c${++s.seq}`;
    s.ticks[key] = checkId;
    if (d.kind === "skip_check") {
      s.verdicts[checkId] = {
        outcome: { verdict: "skipped", diagnosis: d.diagnosis, reasons: [], evidence: d.evidence },
        at: now,
        boundAt: now,
        startedAt: now,
      };
      this.lockedDuring.push(now);
      this.write(s);
      return;
    }
    // Sign ahead (write-ahead): nonce from the exchange, a fresh client order index.
    const coi = String(1000 + s.seq);
    const tx: SignedTx = {
      hash: `h${s.seq}`,
      nonce: this.world.nextNonce,
      coi,
      expiredAt: now + Math.round(120_000 * TIME_SCALE),
      checkId,
    };
    this.signings.push({ at: now, lockClear: s.lock === null || resolution(s.lock, now).resolved });
    s.signed[tx.hash] = tx;
    const order = newOrderFacts({ coi, account: ACCOUNT, market: MARKET, txHash: tx.hash, expiredAt: tx.expiredAt });
    s.running = {
      checkId,
      tickKey: key,
      startedAt: now,
      boundAt: now + checkBoundMs(TIME_SCALE),
      state: { phase: "send", phaseSince: now, round: 1, interrupted: false },
      order,
    };
    s.lock = order;
    this.write(s);
    await this.driver.kick(checkId);
  }

  async deliverFrames(): Promise<void> {
    const due = this.world.frames.filter((f) => f.at <= this.world.now);
    this.world.frames.splice(0, this.world.frames.length, ...this.world.frames.filter((f) => f.at > this.world.now));
    for (const f of due) {
      const s = this.read();
      if (!s.running) continue;
      const r = noteWsOrder(s.running.order, f.order, this.world.now);
      if (r.match === "unrelated") continue;
      s.running.order = r.facts;
      s.lock = r.facts;
      this.write(s);
      await this.driver.kick(s.running.checkId);
    }
  }

  /** The alarm: the hard bound first, then the phase logic; between checks, the lock look-up. */
  async alarm(): Promise<void> {
    const s = this.read();
    const now = this.world.now;
    if (s.running && now >= s.running.boundAt) {
      this.conclude(s.running, boundOutcome(s.running.state.phase, s.running.order, now));
      return;
    }
    if (s.running) return this.driver.kick(s.running.checkId);
    if (s.lock && !resolution(s.lock, now).resolved) {
      s.lock = noteLookup(
        s.lock,
        { order: this.world.lookupOrder(s.lock.coi), tx: this.world.lookupTx(s.lock.txHash) },
        now,
      );
      this.write(s);
    }
  }

  private conclude(rec: OrderPathRecord, outcome: Outcome): void {
    const s = this.read();
    if (!s.running || s.running.checkId !== rec.checkId) return;
    s.verdicts[rec.checkId] = {
      outcome,
      at: this.world.now,
      boundAt: s.running.boundAt,
      startedAt: s.running.startedAt,
    };
    s.lock = rec.order;
    s.running = null;
    this.write(s);
  }

  private newDriver(): OrderPathDriver {
    const epoch = { alive: true };
    const world = this.world;
    const fx: OrderPathEffects = {
      now: () => world.now,
      load: (id) => {
        if (!epoch.alive) return null;
        const r = this.read().running;
        return r && r.checkId === id ? r : null;
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
        timeScale: TIME_SCALE,
        maxTransmissions: 3,
        channels: ["account_orders"],
        fillLatencyDegradedMs: null,
        orderCreatedAt: this.read().running?.startedAt ?? rec.state.phaseSince,
      }),
      transmit: async (rec) => {
        const tx = this.read().signed[rec.order.txHash]!;
        const reply = world.transmit(tx);
        if (reply === "no_reply") return { kind: "no_reply", reason: "timeout" };
        return reply;
      },
      resign: async (rec) => {
        const s = this.read();
        const old = s.signed[rec.order.txHash]!;
        const tx: SignedTx = {
          ...old,
          hash: `${old.hash}r`,
          nonce: world.nextNonce,
          expiredAt: world.now + Math.round(120_000 * TIME_SCALE),
        };
        s.signed[tx.hash] = tx;
        this.write(s);
        return { txHash: tx.hash, expiredAt: tx.expiredAt };
      },
      lookup: async (rec) => ({ order: world.lookupOrder(rec.order.coi), tx: world.lookupTx(rec.order.txHash) }),
      wakeAt: () => undefined,
      entered: () => undefined,
      conclude: (rec, outcome) => {
        if (epoch.alive) this.conclude(rec, outcome);
      },
      failed: (rec, error) => {
        if (epoch.alive)
          this.conclude(rec, { verdict: "fail", diagnosis: "send_failed", reasons: [], evidence: { error } });
      },
    };
    const d = new OrderPathDriver(fx);
    const prev = this.driverEpoch;
    if (prev) prev.alive = false;
    this.driverEpoch = epoch;
    return d;
  }

  private driverEpoch: { alive: boolean } | null = null;
}
