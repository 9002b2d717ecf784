/**
 * Flatten after a check that may have traded: a reduce-only IOC sized and confirmed from the REST
 * position (the WebSocket may be what is broken). It waits while the test order is unresolved
 * (no CreateOrder is signed during the lock); a sub-minimum residue is carried to the next check's
 * side; every outcome is reported beside the verdict and alerts on its own stream.
 */
import { planFlatten, type MarketSpec } from "../../worker/monitor/sizing.ts";
import { resolution } from "../../worker/monitor/check/order.ts";
import { ACTIONS, type FlattenOutcome } from "../../worker/monitor/diagnosis.ts";
import { LighterApiError } from "../../worker/lighter/rest.ts";
import type { Alerting } from "../alerting.ts";
import { getMeta, setMeta } from "../runtime/schema.ts";
import type { MonitorContext } from "../runtime/context.ts";
import type { Feed } from "./feed.ts";
import { forgetNonce, nextClientOrderIndex, signAhead, transmit } from "./order-io.ts";
import { marketSpec, restEvidence, restPosition } from "./preflight-io.ts";
import { insertOrder, readCheck, readOrder, writeCheck } from "./store.ts";
import type { Verdicts } from "./verdict.ts";

interface FlattenState {
  check: string;
  attempt: number;
  /** Times the flatten waited for the test order's lock. */
  waits?: number;
  coi?: string;
}

const BASE_CONFIRM_MS = 3_000;
const MAX_ATTEMPTS = 3;
/** Waiting for the lock is bounded too: then the flatten fails (and alerts) and the lock stays. */
const MAX_LOCK_WAITS = 40;

export class Flattener {
  private readonly c: MonitorContext;
  private readonly feed: Feed;
  private readonly alerting: Alerting;
  private readonly verdicts: Verdicts;

  constructor(c: MonitorContext, feed: Feed, alerting: Alerting, verdicts: Verdicts) {
    this.c = c;
    this.feed = feed;
    this.alerting = alerting;
    this.verdicts = verdicts;
  }

  private save(st: FlattenState, delayMs: number): void {
    setMeta(this.c.sql, "flatten", JSON.stringify(st));
    this.c.setDeadline("flatten", this.c.now() + delayMs);
  }

  async run(): Promise<void> {
    const raw = getMeta(this.c.sql, "flatten");
    if (!raw) return;
    const st = JSON.parse(raw) as FlattenState;
    const check = readCheck(this.c.sql, st.check);
    if (!check) {
      setMeta(this.c.sql, "flatten", "");
      return;
    }
    const cfg = this.c.cfg;
    if (!cfg || !this.c.key) return this.done(st.check, "skipped", { reason: "no key" });
    const lockCoi = getMeta(this.c.sql, "lock_coi");
    const lock = lockCoi ? readOrder(this.c.sql, lockCoi) : null;
    if (lock?.facts && !resolution(lock.facts, this.c.now()).resolved) {
      const waits = (st.waits ?? 0) + 1;
      if (waits > MAX_LOCK_WAITS) {
        return this.done(st.check, "failed", { reason: "the test order is still unresolved", tx_hash: lock.tx_hash });
      }
      return this.save({ ...st, waits }, this.c.scale(BASE_CONFIRM_MS));
    }
    const rest = this.c.rest();
    let spec: MarketSpec | null;
    let position: bigint;
    try {
      spec = await marketSpec(this.c, rest, check.market);
      if (!spec) return this.done(st.check, "failed", { reason: "market unknown" });
      position = await restPosition(this.c, rest, check.market, spec);
    } catch (err) {
      if (st.attempt >= MAX_ATTEMPTS) {
        return this.done(st.check, "failed", { reason: "REST position unavailable", ...restEvidence(err) });
      }
      return this.save({ ...st, attempt: st.attempt + 1 }, this.c.scale(BASE_CONFIRM_MS));
    }
    const abs = position < 0n ? -position : position;
    if (abs === 0n) return this.done(st.check, "ok", { position_base: "0" });
    if (abs < spec.minBase) {
      const residual = JSON.parse(getMeta(this.c.sql, "residual") || "{}") as Record<string, string>;
      residual[String(check.market)] = position.toString();
      setMeta(this.c.sql, "residual", JSON.stringify(residual));
      return this.done(st.check, "residual", {
        position_base: position.toString(),
        min_base: spec.minBase.toString(),
        size_decimals: spec.sizeDecimals,
        carried: true,
      });
    }
    if (st.attempt >= MAX_ATTEMPTS) {
      return this.done(st.check, "failed", { position_base: position.toString(), attempts: st.attempt });
    }
    const top = this.feed.books.get(check.market)?.top();
    const opposite = position > 0n ? top?.bestBid?.price : top?.bestAsk?.price;
    if (!opposite) return this.save({ ...st, attempt: st.attempt + 1 }, this.c.scale(BASE_CONFIRM_MS));
    const plan = planFlatten(spec, position, opposite, Math.max(cfg.thresholds.maxSlippageBps, 50));
    const coi = nextClientOrderIndex(this.c).toString();
    insertOrder(
      this.c.sql,
      {
        coi,
        checkId: check.id,
        purpose: "flatten",
        market: check.market,
        isAsk: plan.isAsk,
        baseAmount: plan.baseAmount,
        price: plan.price,
        notionalUsd: plan.notionalUsd,
        sizeDecimals: spec.sizeDecimals,
        priceDecimals: spec.priceDecimals,
      },
      this.c.now(),
    );
    setMeta(this.c.sql, "flatten", JSON.stringify({ ...st, attempt: st.attempt + 1, coi }));
    try {
      const row = await signAhead(this.c, rest, readOrder(this.c.sql, coi)!, { refreshNonce: false, reduceOnly: true });
      this.c.crash("before_flatten_send");
      const reply = await transmit(this.c, rest, row);
      if (reply.kind === "http" && reply.code === 21104) forgetNonce(this.c);
    } catch (err) {
      if (err instanceof LighterApiError && err.code === 21104) forgetNonce(this.c);
      this.c.event("warn", "flatten.send_failed", restEvidence(err), check.id);
    }
    this.c.setDeadline("flatten", this.c.now() + this.c.scale(BASE_CONFIRM_MS));
  }

  private done(checkId: string, outcome: FlattenOutcome, detail: Record<string, unknown>): void {
    const c = readCheck(this.c.sql, checkId);
    setMeta(this.c.sql, "flatten", "");
    if (!c) return;
    c.flatten = outcome;
    c.flatten_detail = detail;
    writeCheck(this.c.sql, c);
    this.c.event(outcome === "ok" ? "info" : "warn", "flatten.done", { outcome, ...detail }, c.id);
    // A sub-minimum residue is normal (the next check's side nets it): it alerts only above
    // max_residual_base. A failed flatten always alerts.
    const cap = this.c.cfg?.caps.maxResidualBase ?? null;
    const residual = typeof detail.position_base === "string" ? BigInt(detail.position_base) : 0n;
    const decimals = typeof detail.size_decimals === "number" ? detail.size_decimals : 0;
    const overCap = cap !== null && (residual < 0n ? -residual : residual) > BigInt(Math.round(cap * 10 ** decimals));
    const alarming = outcome === "failed" || (outcome === "residual" && overCap);
    if (outcome !== "skipped") {
      const diagnosis = alarming ? (outcome === "failed" ? "flatten_failed" : "flatten_residual") : null;
      this.alerting.onCheck(
        {
          checkId: `${c.id}:flatten`,
          at: this.c.now(),
          verdict: alarming ? "fail" : "pass",
          firstFailingStage: null,
          diagnosis,
          flatten: outcome,
          action: diagnosis ? ACTIONS[diagnosis] : null,
          evidence: detail,
        },
        "flatten",
      );
    }
    this.verdicts.finish(c.id);
  }
}
