/**
 * The Worker's own watchdog over its monitors' Durable Objects. The object may be the broken part,
 * so the Worker asks each one for liveness (10 s timeout) on every cron trigger and, when it does
 * not answer, fails, or has not concluded a check for three schedule periods (the real fire times
 * of its cron; a watch monitor: no reconciliation, or none ever since it started), sends `monitor_stalled` itself through the monitor's alert targets; a MONITORS
 * entry with an error gets `config_invalid` the same way. At most once an hour per monitor each.
 */
import type { WatchdogReport } from "../durable-objects/rpc-types.ts";
import { buildRequest } from "./alerts/providers.ts";
import { deliverOnce } from "./alerts/deliver.ts";
import type { Notification } from "./alerts/alert-policy.ts";
import type { AlertTarget, InvalidMonitor, MonitorConfig } from "./config.ts";
import { previousFires } from "./config/schedule.ts";
import { ACTIONS } from "./monitor/diagnosis.ts";
import { secretReader } from "./secrets.ts";
import { errorMessage } from "./lighter/errors.ts";
import { monitorStub } from "./stub.ts";

export const WATCHDOG_TIMEOUT_MS = 10_000;
export const STALL_ALERT_EVERY_MS = 3_600_000;
/** A running check this far past its hard bound means the object stopped serving its alarm. */
const BOUND_GRACE_MS = 60_000;

/** Without fire times (an expression the library cannot read), a 5-minute schedule is assumed. */
const FALLBACK_PERIOD_MS = 5 * 60_000;

/**
 * Why a monitor on `cron` looks stalled, or null. Stalled: a check a minute past its hard bound,
 * or no check concluded since the 4th most recent fire time (the three schedule periods before
 * it passed without a verdict), read from the real fire times of `cron` (UTC).
 * @example
 * stallReason({ monitorId: "m", lastConcludedAt: Date.parse("2026-12-05T23:00:00Z"), runningCheck: null,
 *   now: Date.parse("2026-12-06T08:10:00Z") }, "0 *\/6 * * *") // null (the 4th fire back is 12:00 the day before)
 */
export function stallReason(r: WatchdogReport, cron: string): string | null {
  const rc = r.runningCheck;
  if (rc && rc.boundAt !== null && r.now > rc.boundAt + BOUND_GRACE_MS) {
    return `check ${rc.id} is ${Math.round((r.now - rc.boundAt) / 1000)} s past its hard bound without a verdict`;
  }
  const fires = previousFires(cron, r.now, 4);
  const since = fires.length === 4 ? fires[3]! : r.now - 3 * FALLBACK_PERIOD_MS;
  if (r.lastConcludedAt === null) {
    // A watch monitor that started and never completed one reconciliation is as blind as a stalled one.
    const started = r.watchStartedAt ?? null;
    if (started === null || started >= since) return null;
    const min = Math.round((r.now - started) / 60_000);
    return `the watch started ${min} min ago and never completed a reconciliation over REST (three schedule periods)`;
  }
  if (r.lastConcludedAt >= since) return null;
  const min = Math.round((r.now - r.lastConcludedAt) / 60_000);
  const when = fires.length === 4 ? `the fire times of "${cron}" since ${new Date(since).toISOString()}` : "15 min";
  return `no check concluded for ${min} min (three schedule periods: ${when})`;
}

/** Asks the object for liveness; a failure or a timeout is itself the finding. */
export async function probe(env: Env, m: MonitorConfig, cron: string): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${WATCHDOG_TIMEOUT_MS / 1000} s`)),
      WATCHDOG_TIMEOUT_MS,
    );
  });
  try {
    const report = (await Promise.race([monitorStub(env, m).watchdog(m.id), timeout])) as WatchdogReport;
    return stallReason(report, cron);
  } catch (err) {
    return `the monitor's Durable Object did not answer its watchdog: ${errorMessage(err)}`;
  } finally {
    clearTimeout(timer);
  }
}

/** What the Worker needs to alert on a monitor's behalf: its id and its targets. */
export interface AlertsOf {
  id: string;
  alerts: { targets: AlertTarget[] };
}

/** Sends monitor_stalled through every target of the monitor, unless one went out this hour. */
export function alertStalled(env: Env, m: AlertsOf, reason: string, now: number): Promise<boolean> {
  return alertHourly(env, m, "monitor_stalled", `STALLED fillwatch ${m.id}`, reason, now);
}

/**
 * A MONITORS entry with an error runs no check: the Worker sends config_invalid through the
 * targets it has, naming each problem, at most once an hour.
 */
export function alertConfigInvalid(env: Env, m: InvalidMonitor, now: number): Promise<boolean> {
  const errors = m.problems.filter((p) => p.severity === "error");
  const reason = `MONITORS[${m.index}] has ${errors.length} error(s), so it runs no check: ${errors
    .map((p) => `${p.setting}: ${p.message}`)
    .join("; ")}`;
  return alertHourly(env, m, "config_invalid", `CONFIG fillwatch ${m.id}`, reason, now);
}

async function alertHourly(
  env: Env,
  m: AlertsOf,
  diagnosis: "monitor_stalled" | "config_invalid",
  title: string,
  reason: string,
  now: number,
): Promise<boolean> {
  const hour = Math.floor(now / STALL_ALERT_EVERY_MS);
  const kind = diagnosis === "monitor_stalled" ? "stalled" : "config";
  const key = new Request(`https://fillwatch.internal/${kind}/${encodeURIComponent(m.id)}/${hour}`);
  const cache = await caches.open("fillwatch-watchdog").catch(() => null);
  if (cache && (await cache.match(key))) return false;
  const incidentId = `${m.id}:${kind}:${hour}`;
  const n: Notification = {
    incidentId,
    kind: "trigger",
    sequence: 0,
    idempotencyKey: `${incidentId}:trigger:0`,
    monitorId: m.id,
    title: `${title}: ${diagnosis}`,
    text: `${title}: ${reason}. Action: ${ACTIONS[diagnosis]}`,
    stage: null,
    diagnosis,
    action: ACTIONS[diagnosis],
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
  console.error(JSON.stringify({ event: `watchdog.${diagnosis}`, monitor: m.id, reason }));
  if (cache) {
    await cache.put(
      key,
      new Response("sent", { headers: { "cache-control": `max-age=${STALL_ALERT_EVERY_MS / 1000}` } }),
    );
  }
  return true;
}
