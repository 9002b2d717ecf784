/**
 * The soak adapter for the issue-16 check machine (`step(state, event, now)` in
 * worker/monitor/check/machine.ts): an interpreter of its effects on the virtual exchange, the way
 * the Durable Object interprets them on Lighter. One stored record (a `save` is one write), one
 * alarm (`wake_at`), frames through the machine's own FrameReader, REST answers and sendTx replies
 * as events with their refs, alerts delivered outside the step and run through the alert policy.
 * A restart drops everything in memory (the socket, timers, the nonce cache, answers in flight)
 * and feeds `restarted` first. It covers the whole fault catalogue and measures position_drift.
 */
import { applyCheck, DEFAULT_POLICY, initialAlertState, type AlertState } from "../../../worker/alerts/alert-policy.ts";
import type { Effect } from "../../../worker/monitor/check/effects.ts";
import type { Event } from "../../../worker/monitor/check/events.ts";
import { FrameReader } from "../../../worker/monitor/check/frames.ts";
import { step } from "../../../worker/monitor/check/machine.ts";
import type { OrderLookup } from "../../../worker/monitor/check/order.ts";
import {
  initialState,
  type CheckSettings,
  type MachineState,
  type Setup,
} from "../../../worker/monitor/check/state.ts";
import { FAULT_NAMES } from "../../sim/faults.ts";
import type { AdapterFactory, MachineUnderSoak, SoakAlert, SoakCheckResult } from "./adapter.ts";
import {
  ACCOUNT,
  MARKET,
  MIN_BASE,
  PRICE_DECIMALS,
  SIZE_DECIMALS,
  type RestOrder,
  type SoakWorld,
  type WireTx,
} from "./world.ts";

const MONITOR_ID = `custom:${ACCOUNT}:3`;
/** Rows the store keeps: the state record, the tick keys and the history of the latest checks. */
const HISTORY_KEPT = 200;

function settings(ts: number): CheckSettings {
  return {
    monitorId: MONITOR_ID,
    chainId: 300,
    account: ACCOUNT,
    apiKeyIndex: 3,
    markets: [MARKET],
    mode: "on-demand",
    timeScale: ts,
    dryRun: false,
    allowMainnet: false,
    allowNonflatStart: false,
    caps: {
      maxNotionalPerOrderUsd: 50,
      maxOrdersPerDay: 100_000,
      maxDailyNotionalUsd: 10_000_000,
      maxResidualBase: null,
    },
    thresholds: {
      maxSpreadBps: 100,
      maxSlippageBps: 100,
      fillLatencyDegradedMs: 5_000,
      bookStaleMs: 30_000,
      restConfirmMs: 5_000,
      wsReportToleranceMs: 3_000,
    },
  };
}

class StepMachine implements MachineUnderSoak {
  readonly name = "#16 check machine: step(state, event, now)";
  readonly covers = FAULT_NAMES;
  readonly flattens = true;
  readonly async = false;
  readonly results: SoakCheckResult[] = [];
  readonly alerts: SoakAlert[] = [];
  writes = 0;
  frameCpuUs = 0;
  readonly counts = { saves: 0, records: 0, logs: 0, steps: 0, alertEffects: 0, duplicateAlertEffects: 0 };
  private stored: string;
  private state: MachineState;
  private epoch = { alive: true };
  private reader = new FrameReader();
  /** machine conn number → world connection id */
  private conns = new Map<number, number>();
  private nonce: number | null = null;
  private alarm = 0;
  private alertState: AlertState = initialAlertState();
  private readonly alerted = new Set<string>();
  private readonly recorded = new Set<string>();
  private readonly byId = new Map<string, SoakCheckResult>();
  private readonly history: string[] = [];
  private readonly setup: Setup;
  private readonly world: SoakWorld;

  constructor(world: SoakWorld, ts: number) {
    this.world = world;
    this.setup = { settings: settings(ts), problems: [], key: { present: true, error: null }, paused: false };
    this.state = initialState();
    this.stored = JSON.stringify(this.state);
  }

  extra(): Record<string, unknown> {
    return { effects: { ...this.counts } };
  }

  busy(): boolean {
    return this.state.check !== null || this.state.lock !== null;
  }

  storage(): { rows: number; bound: number; bytes: number } {
    return { rows: 1 + this.history.length, bound: 1 + HISTORY_KEPT, bytes: this.stored.length };
  }

  tick(key: string): void {
    this.feed({ type: "tick", key, trigger: "cron", setup: this.setup });
  }

  restart(): void {
    this.epoch.alive = false;
    this.epoch = { alive: true };
    for (const w of this.conns.values()) this.world.close(w);
    this.conns.clear();
    this.reader = new FrameReader();
    this.nonce = null;
    this.alarm++;
    this.state = JSON.parse(this.stored) as MachineState;
    this.feed({ type: "restarted" });
  }

  private feed(ev: Event): void {
    this.counts.steps++;
    const before = this.state.check?.id ?? null;
    const r = step(this.state, ev, this.world.now);
    this.state = r.state;
    for (const fx of r.effects) this.effect(fx);
    // A check is over (its flatten included) when the machine lets go of it: note the position then.
    if (before !== null && before !== (this.state.check?.id ?? null)) {
      const known = this.byId.get(before);
      if (known && known.positionAtEnd === undefined) known.positionAtEnd = this.world.position.toString();
    }
  }

  /** An answer arriving later, for this instance only. */
  private later(ms: number, ev: () => Event): void {
    const epoch = this.epoch;
    this.world.at(this.world.now + ms, () => {
      if (epoch.alive) this.feed(ev());
    });
  }

  private effect(fx: Effect): void {
    const epoch = this.epoch;
    const alive = () => epoch.alive;
    switch (fx.kind) {
      case "save":
        this.stored = JSON.stringify(this.state);
        this.writes++;
        this.counts.saves++;
        return;
      case "wake_at": {
        const token = ++this.alarm;
        if (fx.at === null) return;
        this.world.at(fx.at, () => {
          if (alive() && token === this.alarm) this.feed({ type: "wake" });
        });
        return;
      }
      case "open": {
        const conn = fx.conn;
        let settled = false;
        const w = this.world.connect({
          opened: () => {
            if (!alive() || settled) return;
            settled = true;
            this.reader.reset();
            this.feed({ type: "connected", conn });
          },
          frame: (text) => {
            if (!alive() || this.conns.get(conn) !== w) return;
            const t0 = performance.now();
            const res = this.reader.read(text, conn);
            this.frameCpuUs += (performance.now() - t0) * 1000;
            if (res.pong) this.world.pong(w);
            for (const e of res.events) this.feed(e);
          },
          closed: (code, reason) => {
            if (!alive() || this.conns.get(conn) !== w) return;
            this.conns.delete(conn);
            this.feed({ type: "closed", conn, code, reason, jitter: this.world.rng.next() });
          },
          failed: (status, message) => {
            if (!alive() || settled) return;
            settled = true;
            this.conns.delete(conn);
            this.feed({ type: "connect_failed", conn, status, message, timeout: false, jitter: this.world.rng.next() });
          },
        });
        this.conns.set(conn, w);
        this.world.at(this.world.now + fx.timeoutMs, () => {
          if (!alive() || settled) return;
          settled = true;
          this.world.close(w);
          this.conns.delete(conn);
          this.feed({ type: "connect_failed", conn, status: null, message: "timeout", timeout: true, jitter: 0.5 });
        });
        return;
      }
      case "close": {
        const w = this.conns.get(fx.conn);
        if (w !== undefined) this.world.close(w);
        this.conns.delete(fx.conn);
        return;
      }
      case "subscribe": {
        const w = this.conns.get(fx.conn);
        if (w === undefined) return;
        const channel =
          fx.channel === "order_book"
            ? `order_book/${fx.market}`
            : fx.channel === "account_orders"
              ? `account_orders/${fx.market}/${ACCOUNT}`
              : `account_all_orders/${ACCOUNT}`;
        this.world.subscribe(w, channel);
        return;
      }
      case "preflight_fetch": {
        const ref = fx.ref;
        const outage = (status: number) => ({ ok: false as const, outage: true, evidence: { status } });
        type Answer = Omit<Extract<Event, { type: "preflight_data" }>, "type" | "ref">;
        this.world.rest<Answer>(
          () => ({
            spec: {
              ok: true as const,
              value: {
                marketIndex: MARKET,
                sizeDecimals: SIZE_DECIMALS,
                priceDecimals: PRICE_DECIMALS,
                minBase: MIN_BASE.toString(),
                minQuote: "10000000",
                quoteDecimals: 6,
              },
            },
            position: fx.position ? { ok: true as const, value: this.world.position.toString() } : null,
            apiKey: fx.apiKey ? { ok: true as const, value: { matches: true, detail: {} } } : null,
          }),
          (status) => ({
            spec: outage(status),
            position: fx.position ? outage(status) : null,
            apiKey: fx.apiKey ? outage(status) : null,
          }),
          (r) => {
            if (alive()) this.feed({ type: "preflight_data", ref, ...r });
          },
        );
        return;
      }
      case "sign": {
        const nonce = fx.freshNonce || this.nonce === null ? this.world.nextNonce : this.nonce;
        if (!fx.dryRun) this.nonce = nonce + 1;
        const tx: WireTx = {
          hash: `h${fx.coi}n${nonce}`,
          nonce,
          coi: fx.coi,
          isAsk: fx.isAsk,
          base: BigInt(fx.baseAmount),
          price: fx.price,
          reduceOnly: fx.reduceOnly,
          expiredAt: fx.expiredAt,
        };
        const txInfo = JSON.stringify({ ...tx, base: tx.base.toString() });
        const ref = fx.ref;
        this.later(1, () => ({
          type: "signed",
          ref,
          txType: 14,
          txInfo,
          txHash: tx.hash,
          nonce: String(nonce),
          expiredAt: fx.expiredAt,
        }));
        return;
      }
      case "transmit": {
        const t = JSON.parse(fx.txInfo) as Omit<WireTx, "base"> & { base: string };
        const ref = fx.ref;
        this.world.sendTx({ ...t, base: BigInt(t.base) }, (reply) => {
          if (alive()) this.feed({ type: "send_reply", ref, reply });
        });
        return;
      }
      case "lookup": {
        const { ref, coi, txHash } = fx;
        this.world.lookupOrder(coi, (order) =>
          this.world.lookupTx(txHash, (tx) => {
            if (alive()) this.feed({ type: "looked_up", ref, order: toLookup(order), tx });
          }),
        );
        return;
      }
      case "fetch_position": {
        const ref = fx.ref;
        this.world.lookupPosition((r) => {
          if (!alive()) return;
          this.feed({
            type: "position",
            ref,
            position:
              r.kind === "ok"
                ? { ok: true, value: r.position.toString() }
                : { ok: false, outage: true, evidence: { reason: r.reason } },
          });
        });
        return;
      }
      case "alert": {
        this.counts.alertEffects++;
        const key = `${fx.stream}:${fx.result.checkId}:${fx.result.verdict}:${fx.result.diagnosis ?? ""}`;
        if (this.alerted.has(key)) {
          this.counts.duplicateAlertEffects++;
          this.alerts.push({ key, kind: "trigger", checkId: fx.result.checkId, at: this.world.now });
          this.alerts.push({ key, kind: "trigger", checkId: fx.result.checkId, at: this.world.now });
          this.alerts.push({ key, kind: "resolve", checkId: fx.result.checkId, at: this.world.now });
        }
        this.alerted.add(key);
        if (fx.stream === "check") {
          const r = applyCheck(this.alertState, fx.result, MONITOR_ID, DEFAULT_POLICY);
          this.alertState = r.state;
          for (const n of r.notifications)
            if (n.kind !== "remind")
              this.alerts.push({ key: n.incidentId, kind: n.kind, checkId: fx.result.checkId, at: this.world.now });
        }
        const ref = fx.ref;
        this.later(20, () => ({ type: "alert_done", ref, ok: true, error: null }));
        return;
      }
      case "heartbeat": {
        const ref = fx.ref;
        this.later(20, () => ({ type: "alert_done", ref, ok: true, error: null }));
        return;
      }
      case "record": {
        this.writes++;
        this.counts.records++;
        const c = fx.check;
        if (!this.history.includes(c.id)) {
          this.history.push(c.id);
          if (this.history.length > HISTORY_KEPT) this.history.shift();
        }
        if (c.verdict && !this.recorded.has(c.id)) {
          this.recorded.add(c.id);
          const r: SoakCheckResult = {
            id: c.id,
            tick: c.tickKey,
            startedAt: c.startedAt,
            boundAt: c.boundAt,
            concludedAt: c.verdict.at,
            verdict: c.verdict.verdict,
            stage: c.verdict.stage,
            diagnosis: c.verdict.diagnosis,
            cois: c.order ? [c.order.coi] : [],
          };
          this.results.push(r);
          this.byId.set(c.id, r);
        }
        return;
      }
      case "log":
        this.writes++;
        this.counts.logs++;
        return;
    }
  }
}

function toLookup(r: RestOrder): OrderLookup {
  if (r.kind === "found") {
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
  }
  if (r.kind === "absent") return { kind: "absent" };
  return { kind: "unknown", reason: r.reason ?? "REST error" };
}

export const stepAdapter: AdapterFactory = (world, o) => new StepMachine(world, o.timeScale);
