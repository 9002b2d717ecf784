/**
 * Runs the order path: asks `decide` for the next step and performs it through injected effects,
 * until the path waits or concludes. Runs never overlap (a frame or alarm that asks for a run
 * while one is in flight is folded into one more pass), and after every await the facts are read
 * again, so a frame that arrived meanwhile is never lost and a concluded check is never touched.
 * This was the pre-#16 order-path loop; only the soak's `SOAK_MACHINE=today` adapter still runs it,
 * to compare the old core with the check machine.
 */
import { decide, type DecideOptions, type OrderPathState, type Outcome } from "../../../worker/monitor/check/decide.ts";
import { classifySend, type SendReply, type TxLookup } from "../../../worker/monitor/check/send.ts";
import {
  noteReply,
  noteResigned,
  noteLookup,
  noteTransmit,
  type OrderFacts,
  type OrderLookup,
} from "../../../worker/monitor/check/order.ts";

/** The order path of the running check as stored; null once it concluded or another check runs. */
export interface OrderPathRecord {
  checkId: string;
  state: OrderPathState;
  order: OrderFacts;
}

export interface OrderPathEffects {
  now(): number;
  load(checkId: string): OrderPathRecord | null;
  save(rec: OrderPathRecord): void;
  options(rec: OrderPathRecord): DecideOptions;
  /** Puts the stored signed bytes on the wire, unchanged. */
  transmit(rec: OrderPathRecord): Promise<SendReply>;
  /** Signs the same client order index with a fresh nonce and stores it (write-ahead). */
  resign(rec: OrderPathRecord): Promise<{ txHash: string; expiredAt: number } | { error: string }>;
  lookup(rec: OrderPathRecord): Promise<{ order: OrderLookup; tx: TxLookup }>;
  /** Arms a wake-up for this check at `at`. */
  wakeAt(checkId: string, at: number): void;
  entered(rec: OrderPathRecord, from: OrderPathState["phase"]): void;
  conclude(rec: OrderPathRecord, outcome: Outcome): void;
  /** A failure of an effect (e.g. signing) that ends the path. */
  failed(rec: OrderPathRecord, error: string): void;
}

/** Upper bound of steps in one pass: a pass always ends in wait or conclude well before this. */
const MAX_STEPS = 32;

export class OrderPathDriver {
  private inFlight: Promise<void> | null = null;
  private again = false;

  private readonly fx: OrderPathEffects;

  constructor(fx: OrderPathEffects) {
    this.fx = fx;
  }

  /** Advances the check now, or right after the pass in flight. */
  kick(checkId: string): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = (async () => {
      try {
        do {
          this.again = false;
          await this.pass(checkId);
        } while (this.again);
      } finally {
        this.inFlight = null;
      }
    })();
    return this.inFlight;
  }

  get busy(): boolean {
    return this.inFlight !== null;
  }

  private async pass(checkId: string): Promise<void> {
    for (let i = 0; i < MAX_STEPS; i++) {
      const rec = this.fx.load(checkId);
      if (!rec) return;
      const now = this.fx.now();
      const step = decide(rec.state, rec.order, now, this.fx.options(rec));
      switch (step.kind) {
        case "wait":
          this.fx.wakeAt(checkId, step.until);
          return;
        case "conclude":
          this.fx.conclude(rec, step.outcome);
          return;
        case "enter": {
          const from = rec.state.phase;
          const next = { ...rec, state: { ...rec.state, phase: step.phase, phaseSince: now, round: step.round } };
          this.fx.save(next);
          this.fx.entered(next, from);
          break;
        }
        case "transmit": {
          this.fx.save({ ...rec, order: noteTransmit(rec.order, now) });
          const reply = await this.fx.transmit(rec);
          const cur = this.fx.load(checkId);
          if (!cur) return;
          this.fx.save({ ...cur, order: noteReply(cur.order, classifySend(reply)) });
          break;
        }
        case "resign": {
          const r = await this.fx.resign(rec);
          const cur = this.fx.load(checkId);
          if (!cur) return;
          if ("error" in r) {
            this.fx.failed(cur, r.error);
            return;
          }
          this.fx.save({ ...cur, order: noteResigned(cur.order, r.txHash, r.expiredAt) });
          break;
        }
        case "lookup": {
          const r = await this.fx.lookup(rec);
          const cur = this.fx.load(checkId);
          if (!cur) return;
          const at = this.fx.now();
          this.fx.save({ ...cur, order: noteLookup(cur.order, r, at) });
          break;
        }
      }
    }
    const rec = this.fx.load(checkId);
    if (rec) this.fx.wakeAt(checkId, this.fx.now() + 1_000);
  }
}
