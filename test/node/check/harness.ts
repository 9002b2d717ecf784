/**
 * A test interpreter of the REAL check machine against the model World: it feeds events to `step`,
 * carries out the effects (frames through the real FrameReader, REST and sendTx against the world,
 * answers after a latency), persists the state only on `save`, and can restart: the in-memory state
 * is replaced by the last saved one, every answer in flight is lost, sockets close, and the alarm
 * armed before stays (stale). Everything the properties need is recorded on the way.
 */
import type { Effect, AlertResult } from "../../../worker/monitor/check/effects.ts";
import type { Event } from "../../../worker/monitor/check/events.ts";
import { FrameReader } from "../../../worker/monitor/check/frames.ts";
import { step } from "../../../worker/monitor/check/machine.ts";
import {
  initialState,
  type CheckRecord,
  type CheckSettings,
  type MachineState,
  type Setup,
} from "../../../worker/monitor/check/state.ts";
import { ACCOUNT, MARKET, SIZE_DECIMALS, World, type WorldTx } from "./world.ts";

export const TIME_SCALE = 0.05;

export function settings(over: Partial<CheckSettings> = {}): CheckSettings {
  return {
    monitorId: "testnet:77:5",
    chainId: 300,
    account: ACCOUNT,
    apiKeyIndex: 5,
    markets: [MARKET],
    mode: "on-demand",
    timeScale: TIME_SCALE,
    dryRun: false,
    allowMainnet: false,
    allowNonflatStart: false,
    caps: { maxNotionalPerOrderUsd: 50, maxOrdersPerDay: 10_000, maxDailyNotionalUsd: 1e9, maxResidualBase: null },
    thresholds: {
      maxSpreadBps: 100,
      maxSlippageBps: 50,
      fillLatencyDegradedMs: null,
      bookStaleMs: null,
      restConfirmMs: 5_000,
      wsReportToleranceMs: 3_000,
    },
    ...over,
  };
}

export interface HarnessKnobs {
  /** REST/sign answer latency (ms). */
  restLatency: number;
  /** Alert deliveries never answer. */
  alertsHang: boolean;
  /** The private key is configured. */
  keyPresent: boolean;
  /** null: the monitor's entry is gone. */
  settings: CheckSettings | null;
}

interface Queued {
  at: number;
  seq: number;
  event: Event;
  /** Answers are lost on a restart; frames are tied to their socket instead. */
  answer: boolean;
}

export class Harness {
  state: MachineState = initialState();
  stored: string = JSON.stringify(this.state);
  readonly world: World;
  readonly knobs: HarnessKnobs = { restLatency: 20, alertsHang: false, keyPresent: true, settings: settings() };
  alarmAt: number | null = null;
  private queue: Queued[] = [];
  private seq = 0;
  private readers = new Map<number, FrameReader>();
  private nonceCache: number | null = null;
  private signedTx = new Map<string, WorldTx>();
  private jitter = 0.5;
  // ------------------------------------------------------------- what the properties read
  /** Every check record as last emitted, by id. */
  readonly records = new Map<string, CheckRecord>();
  /** Every record ever emitted, for "a verdict never changes". */
  readonly recordLog: CheckRecord[] = [];
  /** Every alert sent, with the world's position and time when it went out. */
  readonly alerts: { stream: string; result: AlertResult; at: number; position: bigint }[] = [];
  /** sign effects: which check, its coi, dry run, reduce-only, base. */
  readonly signs: {
    checkId: string | null;
    coi: string;
    dryRun: boolean;
    base: bigint;
    isAsk: boolean;
    flatten: boolean;
    notional: number;
  }[] = [];
  readonly transmits: { at: number; coi: string; checkId: string | null }[] = [];
  /** Per check: when an account subscription refusal was delivered while the check ran. */
  readonly refusedAt = new Map<string, number>();
  /** Per check: the world position at its start and at its end. */
  readonly positions = new Map<string, { start: bigint; end: bigint | null }>();
  readonly restarts: number[] = [];
  /** Connections opened per check (`<id>` while it runs, `<id>:flatten` for its flatten). */
  readonly opens = new Map<string, number>();
  private openKey: string | null = null;
  readonly effects: Effect[] = [];

  constructor(world: World) {
    this.world = world;
  }

  setup(): Setup {
    return {
      settings: this.knobs.settings,
      problems: this.knobs.settings ? [] : ["monitor entry removed"],
      key: { present: this.knobs.keyPresent, error: null },
      paused: false,
    };
  }

  /** Feeds one event now and carries out its effects. */
  feed(event: Event): void {
    const before = this.state.check?.id ?? null;
    const r = step(this.state, event, this.world.now);
    this.state = r.state;
    if (event.type === "refused" && this.state.check) {
      const c = this.state.check;
      const refusedAccount =
        c.verdict === null &&
        ["account_orders", "account_all_orders"].some(
          (ch) => this.state.session.subs[ch as "account_orders"] === "refused",
        );
      if (refusedAccount && !this.refusedAt.has(c.id)) this.refusedAt.set(c.id, this.world.now);
    }
    const after = this.state.check?.id ?? null;
    if (after && after !== before && !this.positions.has(after)) {
      this.positions.set(after, { start: this.world.position, end: null });
      this.openKey = after;
    }
    for (const fx of r.effects) this.apply(fx);
  }

  private answer(event: Event, delay = this.knobs.restLatency): void {
    this.queue.push({ at: this.world.now + delay, seq: ++this.seq, event, answer: true });
  }

  private apply(fx: Effect): void {
    this.effects.push(fx);
    const w = this.world;
    switch (fx.kind) {
      case "save":
        this.stored = JSON.stringify(this.state);
        return;
      case "wake_at":
        this.alarmAt = fx.at;
        return;
      case "open": {
        // Effects come in order: opens before the verdict's record are the check's, after it the flatten's.
        if (this.openKey) this.opens.set(this.openKey, (this.opens.get(this.openKey) ?? 0) + 1);
        const ok = w.connect(fx.conn);
        this.readers.set(fx.conn, new FrameReader());
        this.answer(
          ok
            ? { type: "connected", conn: fx.conn }
            : {
                type: "connect_failed",
                conn: fx.conn,
                status: 503,
                message: "refused",
                timeout: false,
                jitter: this.jitter,
              },
          5,
        );
        return;
      }
      case "close":
        w.drop(fx.conn);
        return;
      case "subscribe":
        w.subscribe(fx.conn, fx.channel, fx.resubscribe);
        return;
      case "preflight_fetch": {
        const down = w.knobs.restDown;
        const fail = { ok: false as const, outage: true, evidence: { error: "HTTP 503" } };
        this.answer({
          type: "preflight_data",
          ref: fx.ref,
          spec: down
            ? fail
            : {
                ok: true,
                value: {
                  marketIndex: 0,
                  sizeDecimals: 4,
                  priceDecimals: 2,
                  minBase: "50",
                  minQuote: "10000000",
                  quoteDecimals: 6,
                },
              },
          position: fx.position ? (down ? fail : { ok: true, value: w.position.toString() }) : null,
          apiKey: fx.apiKey ? (down ? fail : { ok: true, value: { matches: true, detail: {} } }) : null,
        });
        return;
      }
      case "sign": {
        const checkId = this.state.check?.id ?? null;
        this.signs.push({
          checkId,
          coi: fx.coi,
          dryRun: fx.dryRun,
          base: BigInt(fx.baseAmount),
          isAsk: fx.isAsk,
          flatten: (this.state.check?.verdict ?? null) !== null,
          notional: (Number(fx.baseAmount) * fx.price) / 10 ** (SIZE_DECIMALS + 2),
        });
        if (!this.knobs.keyPresent || !this.knobs.settings) {
          this.answer({ type: "sign_failed", ref: fx.ref, reason: "no_key", message: "no private key" });
          return;
        }
        if (fx.freshNonce || this.nonceCache === null) this.nonceCache = w.nextNonce;
        const tx: WorldTx = {
          hash: `h${fx.coi}-${this.nonceCache}`,
          nonce: this.nonceCache,
          coi: fx.coi,
          isAsk: fx.isAsk,
          base: BigInt(fx.baseAmount),
          price: fx.price,
          reduceOnly: fx.reduceOnly,
          expiredAt: fx.expiredAt,
        };
        if (!fx.dryRun) this.nonceCache++;
        this.signedTx.set(tx.hash, tx);
        this.answer({
          type: "signed",
          ref: fx.ref,
          txType: 14,
          txInfo: JSON.stringify({ ...tx, base: tx.base.toString() }),
          txHash: tx.hash,
          nonce: String(tx.nonce),
          expiredAt: tx.expiredAt,
        });
        return;
      }
      case "transmit": {
        const tx = this.signedTx.get(fx.txHash)!;
        // The same bytes, always: the info must be the one that was signed.
        const info = JSON.stringify({ ...tx, base: tx.base.toString() });
        if (info !== fx.txInfo) throw new Error("transmit with bytes that were never signed");
        this.transmits.push({ at: w.now, coi: fx.coi, checkId: this.state.check?.id ?? null });
        const reply = w.transmit(tx);
        if (reply === "no_reply") {
          this.answer({ type: "send_reply", ref: fx.ref, reply: { kind: "no_reply", reason: "timeout" } }, 200);
        } else {
          this.answer({ type: "send_reply", ref: fx.ref, reply });
        }
        if (reply !== "no_reply" && reply.code === 21104) this.nonceCache = null;
        return;
      }
      case "lookup":
        this.queue.push({
          at: w.now + this.knobs.restLatency,
          seq: ++this.seq,
          answer: true,
          event: {
            type: "looked_up",
            ref: fx.ref,
            order: { kind: "unknown", reason: "pending" },
            tx: { kind: "unknown", reason: "pending" },
          },
        });
        // The answer reflects the world when it arrives, not when it was asked.
        this.lookups.set(fx.ref, { coi: fx.coi, txHash: fx.txHash });
        return;
      case "fetch_position":
        this.answer({
          type: "position",
          ref: fx.ref,
          position: w.knobs.restDown
            ? { ok: false, outage: true, evidence: { error: "HTTP 503" } }
            : { ok: true, value: w.position.toString() },
        });
        return;
      case "alert":
        this.alerts.push({ stream: fx.stream, result: fx.result, at: w.now, position: w.position });
        if (!this.knobs.alertsHang) this.answer({ type: "alert_done", ref: fx.ref, ok: true, error: null }, 10);
        return;
      case "heartbeat":
        if (!this.knobs.alertsHang) this.answer({ type: "alert_done", ref: fx.ref, ok: true, error: null }, 10);
        return;
      case "record": {
        if (fx.check.verdict && this.openKey === fx.check.id) this.openKey = `${fx.check.id}:flatten`;
        this.records.set(fx.check.id, fx.check);
        this.recordLog.push(fx.check);
        // The position when the check ended (later re-sent records — a late report, an annotation — change nothing).
        const p = this.positions.get(fx.check.id);
        if (p && p.end === null && (this.state.check === null || fx.check.flattenOutcome !== null)) {
          p.end = this.world.position;
        }
        return;
      }
      case "log":
        return;
    }
  }

  private lookups = new Map<string, { coi: string; txHash: string }>();

  /** A restart: back to the last saved state; answers in flight are lost; sockets close; the old alarm stays. */
  restart(): void {
    this.state = JSON.parse(this.stored) as MachineState;
    this.queue = this.queue.filter((q) => !q.answer);
    for (const conn of [...this.world.conns.keys()]) this.world.drop(conn);
    this.restarts.push(this.world.now);
    this.feed({ type: "restarted" });
  }

  /** The peer drops the socket. */
  drop(jitter: number): void {
    const s = this.state.session;
    if (s.status === "closed") return;
    this.world.drop(s.conn);
    this.jitter = jitter;
    this.feed({ type: "closed", conn: s.conn, code: 1006, reason: "dropped", jitter });
  }

  /** `nextAt`: when the trigger fires next (the cron handler's), when the test gives it. */
  tick(key: string, trigger: "cron" | "manual" = "cron", nextAt?: number | null): void {
    this.feed({ type: "tick", key, trigger, setup: this.setup(), ...(nextAt !== undefined ? { nextAt } : {}) });
  }

  config(): void {
    this.feed({ type: "config", setup: this.setup() });
  }

  /** Runs every event due up to `until`, in time order. */
  runUntil(until: number): void {
    for (let guard = 0; guard < 100_000; guard++) {
      const nextQ = this.queue.reduce<Queued | null>(
        (m, q) => (!m || q.at < m.at || (q.at === m.at && q.seq < m.seq) ? q : m),
        null,
      );
      const nextF = this.world.nextFrameAt();
      const candidates = [nextQ?.at, nextF, this.alarmAt].filter((t): t is number => typeof t === "number");
      const next = candidates.length > 0 ? Math.min(...candidates) : null;
      if (next === null || next > until) break;
      this.world.now = Math.max(this.world.now, next);
      const frames = this.world.due();
      for (const f of frames) {
        const reader = this.readers.get(f.conn);
        if (!reader) continue;
        const r = reader.read(f.text, f.conn);
        for (const e of r.events) this.feed(e);
      }
      if (nextQ && nextQ.at <= this.world.now) {
        this.queue.splice(this.queue.indexOf(nextQ), 1);
        let e = nextQ.event;
        if (e.type === "looked_up") {
          const l = this.lookups.get(e.ref);
          if (l) e = { ...e, order: this.world.lookupOrder(l.coi), tx: this.world.lookupTx(l.txHash) };
        }
        this.feed(e);
        continue;
      }
      if (this.alarmAt !== null && this.alarmAt <= this.world.now) {
        this.alarmAt = null;
        this.feed({ type: "wake", jitter: this.jitter });
      }
    }
    this.world.now = Math.max(this.world.now, until);
    this.world.run();
  }
}
