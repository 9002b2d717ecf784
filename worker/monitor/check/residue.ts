/**
 * The open residue: the own fill a failed flatten left on the account, carried across checks. This
 * module owns when one is opened (a flatten that failed with part of its check's fill still open),
 * the flatten that retries closing it at the next trigger (the flatten's own path, sized from the
 * residue only), what a REST position means for it (already gone, ours to close, moved past it or
 * against it by someone else), and when it is closed: only when the position is back where the
 * check that left it found it, or when the position shows it is no longer ours to trade.
 */
import type { FlattenOutcome } from "../diagnosis.ts";
import { MS, log, scale, type Ctx } from "./ctx.ts";
import { resolution, type OrderFacts } from "./order.ts";
import type { CheckRecord, Evidence, FlattenState, ResidueState } from "./state.ts";

/** Closing flattens that sent an order before the machine stops trading and only watches the position. */
export const RESIDUE_MAX_TRIES = 5;

const abs = (v: bigint) => (v < 0n ? -v : v);

/** The residue as evidence (the skipped check's record, the flatten alert). */
export function residueEvidence(r: ResidueState): Evidence {
  return {
    check_id: r.checkId,
    market: r.market,
    base: r.base,
    position_before_base: r.positionBefore,
    position_expected_base: (BigInt(r.positionBefore) + BigInt(r.base)).toString(),
    since: r.since,
    tries: r.tries,
    upper_bound: r.upperBound === true,
  };
}

/** The lock resolved the test order of a residue whose fill was unknown: its REST fill is the residue now. */
export function learnResidueFill(ctx: Ctx, checkId: string, o: OrderFacts): void {
  const r = ctx.s.residue;
  if (!r?.upperBound || r.checkId !== checkId || o.restResult !== "found" || !o.restOrder?.filled) return;
  const filled = BigInt(o.restOrder.filled);
  r.base = (BigInt(r.base) < 0n ? -filled : filled).toString();
  r.upperBound = false;
  log(ctx, "info", "residue.fill_learned", residueEvidence(r), checkId);
}

/** The flatten that retries closing the open residue, attached to the check a trigger skipped for it. */
export function carriedFlatten(ctx: Ctx, c: CheckRecord): FlattenState | null {
  const r = ctx.s.residue;
  if (!r || c.verdict?.diagnosis !== "residue_open") return null;
  log(ctx, "warn", "residue.retry", residueEvidence(r), c.id);
  return {
    step: "await_lock",
    ownFill: r.base,
    closed: "0",
    positionBefore: r.positionBefore,
    attempts: 0,
    connects: 0,
    freshNonce: false,
    lockWaits: 0,
    source: "position",
    carried: { checkId: r.checkId, beyond: null },
    order: null,
    facts: null,
    tx: null,
    nextAt: ctx.now,
    boundAt: ctx.now + scale(ctx, MS.flattenBound),
  };
}

export type ResidueMove =
  /** The position is back where the check found it (within the market's minimum): nothing to trade. */
  | { kind: "gone"; moved: bigint }
  /** Close `close` (signed like the residue, never larger); `beyond` is someone else's, left alone. */
  | { kind: "close"; close: bigint; beyond: bigint }
  /** The position moved against the residue: nothing of it is left to close by trading. */
  | { kind: "against"; moved: bigint }
  /** Closing retries are exhausted: the residue stays open until the position comes back. */
  | { kind: "exhausted"; moved: bigint }
  /** Nothing may trade now (dry run, no key, no configuration): the residue stays open. */
  | { kind: "held"; why: string };

/** What a REST position read by a residue's flatten means, never more than the residue to trade. */
export function judgeResidue(ctx: Ctx, c: CheckRecord, f: FlattenState, position: bigint): ResidueMove {
  const moved = position - BigInt(f.positionBefore ?? "0");
  const residue = BigInt(f.ownFill);
  const minBase = BigInt(c.spec?.minBase ?? "1");
  if (abs(moved) < minBase) return { kind: "gone", moved };
  if (moved > 0n !== residue > 0n) return { kind: "against", moved };
  const setup = ctx.s.setup;
  if (!setup?.settings) return { kind: "held", why: "the monitor's configuration is gone" };
  if (!setup.key.present)
    return { kind: "held", why: `no private key (${setup.key.error ?? "the key secret is not set"})` };
  if (c.dryRun) return { kind: "held", why: "the monitor is in dry run, which never sends" };
  if ((ctx.s.residue?.tries ?? 0) >= RESIDUE_MAX_TRIES) return { kind: "exhausted", moved };
  if (abs(moved) <= abs(residue)) return { kind: "close", close: moved, beyond: 0n };
  return { kind: "close", close: residue, beyond: moved - residue };
}

/**
 * A flatten ended: opens the residue when a check's own flatten failed with part of its fill still
 * on the account; for a residue's flatten, closes the residue unless it failed, and turns an "ok"
 * that left someone else's move on the account into an alerted residual. Returns the outcome and
 * evidence to report.
 */
export function settleResidue(
  ctx: Ctx,
  c: CheckRecord,
  f: FlattenState,
  outcome: FlattenOutcome,
  detail: Evidence,
): { outcome: FlattenOutcome; detail: Evidence } {
  const open = ctx.s.residue ?? null;
  if (f.carried) {
    if (!open) return { outcome, detail };
    const shown = { ...detail, residue_of: f.carried.checkId, residue: residueEvidence(open) };
    if (outcome === "failed") {
      if (f.attempts > 0) open.tries++;
      return { outcome, detail: shown };
    }
    ctx.s.residue = null;
    log(ctx, "info", "residue.closed", { ...shown, outcome }, c.id);
    // Someone else's move stays on the account: the position is not back, so the alert stays open.
    const beyond = f.carried.beyond;
    if (beyond !== null) {
      return {
        outcome: "residual",
        detail: {
          ...shown,
          residual_base: beyond,
          unexplained: true,
          reason: `the residue of ${f.carried.checkId} is closed, but the position had moved by ${beyond} more: not ours to trade`,
        },
      };
    }
    return { outcome, detail: shown };
  }
  let left = BigInt(f.ownFill) + BigInt(f.closed);
  // The test order still unresolved: its own fill is unknown, at most its size (the lock learns it).
  const unknown = left === 0n && c.order !== null && c.facts !== null && !resolution(c.facts, ctx.now).resolved;
  if (unknown) left = c.order!.isAsk ? -BigInt(c.order!.baseAmount) : BigInt(c.order!.baseAmount);
  if (outcome !== "failed" || left === 0n || f.positionBefore === null || !c.spec) return { outcome, detail };
  const residue: ResidueState = {
    checkId: c.id,
    market: c.market,
    base: left.toString(),
    positionBefore: f.positionBefore,
    spec: c.spec,
    since: ctx.now,
    tries: 0,
    ...(unknown ? { upperBound: true } : {}),
  };
  ctx.s.residue = residue;
  log(ctx, "error", "residue.opened", residueEvidence(residue), c.id);
  return { outcome, detail: { ...detail, residue: residueEvidence(residue) } };
}
