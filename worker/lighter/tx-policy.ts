/**
 * fillwatch's product rules for what it signs, which depend on the clock (kept apart from the
 * reference's static `validate`): used by the monitor and `auth-token create`, never by
 * `tx sign --json` or any verify.
 */
import { MAX_AUTH_LIFETIME_S } from "./auth.ts";
import type { Tx } from "./tx.ts";

export interface PolicyProblem {
  field: string;
  message: string;
  /** "warning" problems are reported but do not refuse the operation. */
  severity?: "error" | "warning";
}

/** ExpiredAt at most 10 minutes ahead (the SDK default window), not in the past. */
export const MAX_TX_VALIDITY_MS = 10 * 60_000;
const MIN_ORDER_EXPIRY_MS = 5 * 60_000;
const MAX_ORDER_EXPIRY_MS = 30 * 86_400_000;

export function policy(tx: Tx, nowMs: number): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const now = BigInt(Math.floor(nowMs));
  if (tx.ExpiredAt <= now) out.push({ field: "ExpiredAt", message: "ExpiredAt is in the past" });
  if (tx.ExpiredAt > now + BigInt(MAX_TX_VALIDITY_MS))
    out.push({ field: "ExpiredAt", message: "ExpiredAt is more than 10 minutes ahead" });
  if (tx.txType === 14) {
    if (tx.ClientOrderIndex === 0n)
      out.push({
        field: "ClientOrderIndex",
        message: "client order index 0 means none; fillwatch needs one to follow the order",
      });
    if (tx.OrderExpiry !== 0n) {
      const ahead = tx.OrderExpiry - now;
      if (ahead < BigInt(MIN_ORDER_EXPIRY_MS) || ahead > BigInt(MAX_ORDER_EXPIRY_MS)) {
        out.push({ field: "OrderExpiry", message: "OrderExpiry must be 5 minutes … 30 days ahead" });
      }
    }
  }
  if (tx.txType === 16 && tx.TimeInForce === 1) {
    const ahead = tx.Time - now;
    if (ahead < BigInt(MIN_ORDER_EXPIRY_MS) || ahead > BigInt(15 * 86_400_000))
      out.push({ field: "Time", message: "a scheduled cancel-all must be 5 minutes … 15 days ahead" });
  }
  return out;
}

/** Auth-token deadline rules: in the future, at most 8 hours ahead. */
export function authPolicy(deadlineS: number, nowS: number): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  if (deadlineS <= nowS)
    out.push({
      field: "deadline",
      message: "the deadline has already passed: Lighter will refuse this token",
      severity: "warning",
    });
  if (deadlineS - nowS > MAX_AUTH_LIFETIME_S) {
    out.push({
      field: "deadline",
      message:
        "the deadline is more than 8 hours ahead; Lighter refuses it (20013). Pass an absolute unix time in seconds, not a relative number",
    });
  }
  return out;
}
