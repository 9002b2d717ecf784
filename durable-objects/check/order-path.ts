/**
 * The test order after pre-flight: the WebSocket reports routed into the core's order facts
 * (identity-checked, per channel, the frames stored byte-for-byte), the core's order-path driver
 * wired to real effects (transmit the stored bytes, re-sign, REST look-ups, wake-ups), and the
 * core's outcome turned into the check's verdict.
 */
import { OrderPathDriver, type OrderPathRecord } from "../../worker/monitor/check/driver.ts";
import type { DecideOptions, Outcome } from "../../worker/monitor/check/decide.ts";
import { noteWsOrder, observed, type OrderFacts } from "../../worker/monitor/check/order.ts";
import type { Phase } from "../../worker/monitor/check/phases.ts";
import { describeCode } from "../../worker/monitor/diagnosis.ts";
import type { Order } from "../../worker/lighter/messages.ts";
import { errorMessage } from "../../worker/lighter/errors.ts";
import { setMeta } from "../runtime/schema.ts";
import type { MonitorContext } from "../runtime/context.ts";
import type { Feed, OrderChannel } from "./feed.ts";
import { markStage, runningCheckNamed } from "./marks.ts";
import { forgetNonce, lookup, signAhead, transmit } from "./order-io.ts";
import { orderEvent, readCheck, readOrder, saveFacts, writeCheck } from "./store.ts";
import type { Verdicts } from "./verdict.ts";

const MAX_TRANSMISSIONS = 3;
/** Exchange frames are stored byte-for-byte up to this size. */
const MAX_STORED_FRAME = 16_384;

export class OrderPath {
  readonly driver: OrderPathDriver;
  private readonly c: MonitorContext;
  private readonly feed: Feed;
  private readonly verdicts: Verdicts;

  constructor(c: MonitorContext, feed: Feed, verdicts: Verdicts) {
    this.c = c;
    this.feed = feed;
    this.verdicts = verdicts;
    this.driver = new OrderPathDriver({
      now: () => this.c.now(),
      load: (checkId) => this.load(checkId),
      save: (rec) => this.save(rec),
      options: (rec) => this.options(rec),
      transmit: async (rec) => {
        const reply = await transmit(this.c, this.c.rest(), readOrder(this.c.sql, rec.order.coi)!);
        this.c.crash("after_send");
        return reply;
      },
      resign: (rec) => this.resign(rec),
      lookup: (rec) => lookup(this.c, this.c.rest(), readOrder(this.c.sql, rec.order.coi)!),
      wakeAt: (checkId, at) => this.c.setDeadline("check", at, { check: checkId, phase: "order" }),
      entered: (rec, from) => this.entered(rec, from),
      conclude: (rec, outcome) => this.conclude(rec, outcome),
      failed: (rec, error) =>
        this.verdicts.conclude(rec.checkId, { verdict: "fail", diagnosis: "send_failed", evidence: { error } }),
    });
  }

  kick(checkId: string): Promise<void> {
    return this.driver.kick(checkId);
  }

  /** Orders from one frame: only ours (by client order index) are recorded, foreign ones as such. */
  onOrders(orders: Order[], channel: OrderChannel, account: string | null, text: string, at: number): void {
    for (const o of orders) {
      if (o.clientOrderIndex === 0n) continue;
      const row = readOrder(this.c.sql, o.clientOrderIndex.toString());
      if (!row) continue;
      const frame =
        text.length > MAX_STORED_FRAME ? { frame_truncated: text.slice(0, MAX_STORED_FRAME) } : { frame: text };
      if (row.purpose === "flatten" || !row.facts) {
        orderEvent(this.c.sql, row.coi, at, "ws", "update", o.status, null, { channel, ...frame });
        continue;
      }
      const before = row.facts;
      const r = noteWsOrder(before, observed(o, account, row.size_decimals ?? 0), at, channel);
      const kind = r.match === "ours" ? "update" : "foreign";
      orderEvent(this.c.sql, row.coi, at, "ws", kind, o.status, r.facts.wsFilled, {
        channel,
        order_index: o.orderIndex.toString(),
        ...frame,
      });
      if (changed(before, r.facts)) saveFacts(this.c.sql, row.coi, r.facts, at);
      if (r.match !== "ours") {
        this.c.event("warn", "order.foreign_frame", { client_order_index: row.coi, channel, account }, row.check_id);
        continue;
      }
      const grew = BigInt(r.facts.wsFilled) > BigInt(before.wsFilled);
      if (grew) {
        const delta = (BigInt(r.facts.wsFilled) - BigInt(before.wsFilled)).toString();
        orderEvent(this.c.sql, row.coi, at, "ws", "fill", o.status, r.facts.wsFilled, { delta, channel });
        this.c.event(
          "info",
          "order.filled",
          { client_order_index: row.coi, cumulative_base: r.facts.wsFilled, channel },
          row.check_id,
        );
      }
      this.onOurOrder(row.check_id, before.wsSeenAt === null, grew, r.facts.wsFilled, o.status, at);
    }
  }

  private onOurOrder(
    checkId: string,
    firstSeen: boolean,
    grew: boolean,
    filled: string,
    status: string,
    at: number,
  ): void {
    const c = runningCheckNamed(this.c, checkId);
    if (!c) {
      // A report for a check that already has its verdict (e.g. a late fill): noted, never re-judged.
      const done = readCheck(this.c.sql, checkId);
      if (grew && done && done.finished_at !== null && !done.evidence.ws_fill_after_verdict_at) {
        done.evidence.ws_fill_after_verdict_at = at;
        done.evidence.ws_fill_after_verdict_ms = at - done.finished_at;
        writeCheck(this.c.sql, done);
      }
      return;
    }
    if (firstSeen) {
      markStage(this.c, c, "order_seen", at, { status });
      writeCheck(this.c.sql, c);
      this.c.crash("after_seen");
    }
    if (grew && !c.stages.fill_seen) {
      markStage(this.c, c, "fill_seen", at, { filled_base: filled, status });
      // Processed: the fill is in SQLite (the facts above) before this line runs.
      markStage(this.c, c, "processed", this.c.now());
      writeCheck(this.c.sql, c);
      this.c.crash("after_fill");
    }
    if (c.path) this.c.spawn(this.driver.kick(checkId));
  }

  private load(checkId: string): OrderPathRecord | null {
    const c = runningCheckNamed(this.c, checkId);
    const o = c?.coi ? readOrder(this.c.sql, c.coi) : null;
    return c?.path && o?.facts ? { checkId, state: c.path, order: o.facts } : null;
  }

  private save(rec: OrderPathRecord): void {
    const c = runningCheckNamed(this.c, rec.checkId);
    if (!c?.coi) return;
    c.path = rec.state;
    c.phase = rec.state.phase;
    writeCheck(this.c.sql, c);
    saveFacts(this.c.sql, c.coi, rec.order, this.c.now());
  }

  private options(rec: OrderPathRecord): DecideOptions {
    const c = readCheck(this.c.sql, rec.checkId);
    const o = readOrder(this.c.sql, rec.order.coi);
    // Every subscribed channel must report the fill, unless the session dropped or the object was
    // interrupted during the check (frames may then have been missed for reasons of our own).
    const gap = rec.state.interrupted || c?.evidence.reconnect !== undefined;
    const channels: string[] = [];
    if (!gap && c && this.feed.subscribedOrders.has(c.market)) channels.push("account_orders");
    if (!gap && this.feed.allOrdersSubscribed) channels.push("account_all_orders");
    return {
      timeScale: this.c.cfg?.timeScale ?? 1,
      maxTransmissions: MAX_TRANSMISSIONS,
      fillLatencyDegradedMs: this.c.cfg?.thresholds.fillLatencyDegradedMs ?? null,
      orderCreatedAt: o?.created_at ?? rec.state.phaseSince,
      channels,
      phaseMs: { confirm: this.c.cfg?.thresholds.restConfirmMs ?? 5_000 },
    };
  }

  /** A fresh nonce for the same client order index: only after an immediate 21104 to the first send. */
  private async resign(rec: OrderPathRecord): Promise<{ txHash: string; expiredAt: number } | { error: string }> {
    forgetNonce(this.c);
    try {
      const o = await signAhead(this.c, this.c.rest(), readOrder(this.c.sql, rec.order.coi)!, {
        refreshNonce: true,
        reduceOnly: false,
      });
      return { txHash: o.tx_hash, expiredAt: signedExpiry(o.tx_info) ?? this.c.now() };
    } catch (err) {
      return { error: errorMessage(err) };
    }
  }

  private entered(rec: OrderPathRecord, from: Phase): void {
    const c = runningCheckNamed(this.c, rec.checkId);
    if (!c) return;
    this.c.event("info", "check.phase", { from, to: rec.state.phase, round: rec.state.round }, c.id);
    if (from === "send" && rec.state.phase === "await_order") {
      // Frames can outrun the sendTx reply: the order was accepted no later than it was seen.
      const seenAt = c.stages.order_seen?.at;
      const at = seenAt !== undefined ? Math.min(seenAt, this.c.now()) : this.c.now();
      const extra =
        seenAt !== undefined && seenAt < this.c.now() ? { via: "seen on the WebSocket before the reply" } : {};
      markStage(this.c, c, "order_accepted", at, { tx_hash: rec.order.txHash, ...extra });
      c.evidence.tx_hash = rec.order.txHash;
      writeCheck(this.c.sql, c);
      setMeta(this.c.sql, `traded_${c.market}`, "1");
      this.c.crash("after_accept");
    }
  }

  private conclude(rec: OrderPathRecord, outcome: Outcome): void {
    const c = runningCheckNamed(this.c, rec.checkId);
    if (!c) return;
    const o = rec.order;
    const channels: Record<string, { seen_at: number | null; fill_at: number | null }> = {};
    for (const [ch, v] of Object.entries(o.channels)) channels[ch] = { seen_at: v.seenAt, fill_at: v.fillAt };
    let { verdict, diagnosis } = outcome;
    if (verdict === "pass" && c.reasons.length > 0) {
      verdict = "degraded";
      diagnosis = c.reasons[0] ?? null;
    }
    const latency = outcome.evidence.fill_latency_ms;
    if (typeof latency === "number") {
      c.fill_latency_ms = latency;
      writeCheck(this.c.sql, c);
    }
    const code = outcome.evidence.exchange_code;
    this.verdicts.conclude(c.id, {
      verdict,
      diagnosis,
      reasons: outcome.reasons,
      evidence: {
        ...outcome.evidence,
        tx_hash: o.txHash,
        client_order_index: o.coi,
        code_meaning: describeCode(typeof code === "number" ? code : null),
        channels,
        last_account_frame_at: this.feed.lastAccountFrameAt,
        last_frame_at: this.feed.lastFrameAt,
        ...(o.foreignFrames > 0 ? { foreign_frames: o.foreignFrames } : {}),
      },
    });
  }
}

/** Whether a frame changed what we know (a duplicated frame changes nothing and writes nothing). */
function changed(a: OrderFacts, b: OrderFacts): boolean {
  return (
    a.wsFilled !== b.wsFilled ||
    a.wsStatus !== b.wsStatus ||
    a.wsSeenAt !== b.wsSeenAt ||
    a.wsOrderIndex !== b.wsOrderIndex ||
    a.wsTerminalAt !== b.wsTerminalAt ||
    a.foreignFrames !== b.foreignFrames ||
    JSON.stringify(a.channels) !== JSON.stringify(b.channels)
  );
}

/** ExpiredAt of a signed tx_info (ms since the epoch; well inside the safe-integer range). */
export function signedExpiry(txInfo: string): number | null {
  const m = /"ExpiredAt":(\d+)/.exec(txInfo);
  return m ? Number(m[1]) : null;
}
