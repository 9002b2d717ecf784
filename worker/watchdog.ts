/**
 * The Worker's own watchdog over its monitors' Durable Objects. The object may be the broken part,
 * so the Worker asks each one for liveness (10 s timeout) on every cron trigger and, when it does
 * not answer, fails, or has not concluded a check for three schedule periods, sends
 * `monitor_stalled` itself through the monitor's alert targets — at most once an hour per monitor.
 */
import type { WatchdogReport } from "../durable-objects/rpc-types.ts";
import { buildRequest } from "./alerts/providers.ts";
import { deliverOnce } from "./alerts/deliver.ts";
import type { Notification } from "./alerts/alert-policy.ts";
import type { MonitorConfig } from "./config.ts";
import { ACTIONS } from "./monitor/diagnosis.ts";
import { secretReader } from "./secrets.ts";
import { errorMessage } from "./lighter/errors.ts";
import { monitorStub } from "./stub.ts";

export const WATCHDOG_TIMEOUT_MS = 10_000;
export const STALL_ALERT_EVERY_MS = 3_600_000;
/** A running check this far past its hard bound means the object stopped serving its alarm. */
const BOUND_GRACE_MS = 60_000;

/** The period of a cron expression for the staleness rule: `*\/N` minutes, hourly, else 5 minutes. */
export function cronPeriodMs(cron: string | null): number {
  const f = (cron ?? "").trim().split(/\s+/);
  const every = /^\*\/(\d+)$/.exec(f[0] ?? "");
  if (every) return Number(every[1]) * 60_000;
  if (f.length === 5 && /^\d+$/.test(f[0]!) && f[1] === "*") return 3_600_000;
  return 5 * 60_000;
}

/**
 * Why a monitor looks stalled, or null.
 * @example
 * stallReason({ monitorId: "m", lastConcludedAt: 0, runningCheck: null, now: 3_600_000 }, 300_000)
 * // "no check concluded for 60 min (3 schedule periods are 15 min)"
 */
export function stallReason(r: WatchdogReport, periodMs: number): string | null {
  const rc = r.runningCheck;
  if (rc && rc.boundAt !== null && r.now > rc.boundAt + BOUND_GRACE_MS) {
    return `check ${rc.id} is ${Math.round((r.now - rc.boundAt) / 1000)} s past its hard bound without a verdict`;
  }
  if (r.lastConcludedAt !== null && r.now - r.lastConcludedAt > 3 * periodMs) {
    const min = Math.round((r.now - r.lastConcludedAt) / 60_000);
    return `no check concluded for ${min} min (3 schedule periods are ${Math.round((3 * periodMs) / 60_000)} min)`;
  }
  return null;
}

/** Asks the object for liveness; a failure or a timeout is itself the finding. */
export async function probe(env: Env, m: MonitorConfig, periodMs: number): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${WATCHDOG_TIMEOUT_MS / 1000} s`)),
      WATCHDOG_TIMEOUT_MS,
    );
  });
  try {
    const report = (await Promise.race([monitorStub(env, m).watchdog(m.id), timeout])) as WatchdogReport;
    return stallReason(report, periodMs);
  } catch (err) {
    return `the monitor's Durable Object did not answer its watchdog: ${errorMessage(err)}`;
  } finally {
    clearTimeout(timer);
  }
}

/** Sends monitor_stalled through every target of the monitor, unless one went out this hour. */
export async function alertStalled(env: Env, m: MonitorConfig, reason: string, now: number): Promise<boolean> {
  const hour = Math.floor(now / STALL_ALERT_EVERY_MS);
  const key = new Request(`https://fillwatch.internal/stalled/${encodeURIComponent(m.id)}/${hour}`);
  const cache = await caches.open("fillwatch-watchdog").catch(() => null);
  if (cache && (await cache.match(key))) return false;
  const incidentId = `${m.id}:stalled:${hour}`;
  const n: Notification = {
    incidentId,
    kind: "trigger",
    sequence: 0,
    idempotencyKey: `${incidentId}:trigger:0`,
    monitorId: m.id,
    title: `STALLED fillwatch ${m.id}: monitor_stalled`,
    text: `STALLED fillwatch ${m.id}: ${reason}. Action: ${ACTIONS.monitor_stalled}`,
    stage: null,
    diagnosis: "monitor_stalled",
    action: ACTIONS.monitor_stalled,
    evidence: { reason, sent_by: "worker watchdog" },
    at: now,
  };
  const secret = secretReader(env);
  for (const t of m.alerts.targets) {
    const url = t.urlSecret ? secret(t.urlSecret) : t.url;
    if (!url && t.type !== "telegram" && t.type !== "pagerduty") continue;
    const req = await buildRequest(n, { target: t, url, secret: t.secretName ? secret(t.secretName) : null });
    const r = await deliverOnce(req);
    if (!r.ok)
      console.error(JSON.stringify({ event: "watchdog.alert_failed", monitor: m.id, target: t.type, error: r.error }));
  }
  console.error(JSON.stringify({ event: "watchdog.monitor_stalled", monitor: m.id, reason }));
  if (cache) {
    await cache.put(
      key,
      new Response("sent", { headers: { "cache-control": `max-age=${STALL_ALERT_EVERY_MS / 1000}` } }),
    );
  }
  return true;
}
