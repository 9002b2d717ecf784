/**
 * How far `time_scale` may stretch a monitor's clock: a test order's tx is signed valid for
 * ORDER_TX_VALIDITY_MS × time_scale, and the exchange refuses (21711) an ExpiredAt more than ten
 * minutes ahead (the SDK signs 599 s; LIVE.md L.13 #7, PROTOCOL.md §6.5). Every other deadline of
 * a check is shorter than that validity, so bounding the validity bounds them all.
 */
import { MAX_TX_VALIDITY_MS } from "../lighter/tx-policy.ts";

/** A test order's tx validity at time_scale 1: ExpiredAt = signing time + this × time_scale. */
export const ORDER_TX_VALIDITY_MS = 120_000;

/** The furthest ExpiredAt fillwatch signs: the SDK's window, one second under the exchange's ten minutes. */
export const MAX_EXPIRED_AT_AHEAD_MS = MAX_TX_VALIDITY_MS - 1_000;

/** The largest accepted time_scale (4.99): ExpiredAt stays within MAX_EXPIRED_AT_AHEAD_MS. */
export const MAX_TIME_SCALE = Math.floor((MAX_EXPIRED_AT_AHEAD_MS / ORDER_TX_VALIDITY_MS) * 100) / 100;

/** Why `timeScale` cannot be used, or null. */
export function timeScaleProblem(timeScale: number): string | null {
  if (timeScale <= MAX_TIME_SCALE) return null;
  const seconds = Math.round((ORDER_TX_VALIDITY_MS * timeScale) / 1000);
  return (
    `time_scale ${timeScale} would sign every test order with ExpiredAt ${seconds} s ahead; the exchange accepts ` +
    `at most ${MAX_EXPIRED_AT_AHEAD_MS / 1000} s (else 21711 invalid expiry), so time_scale is at most ${MAX_TIME_SCALE}`
  );
}
