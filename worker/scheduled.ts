/**
 * Cron entry. Each invocation is keyed by its exact scheduledTime per monitor, so a repeated
 * delivery of the same invocation is ignored by the object while every new one (manual local
 * triggers included) runs a check. The housekeeping cron only prunes and flushes. A watch monitor
 * never runs a check: its tick only makes sure its session is held (it runs continuously).
 */
import { loadConfig } from "./config.ts";
import { nextFire } from "./config/schedule.ts";
import { errorMessage } from "./lighter/errors.ts";
import { monitorStub } from "./stub.ts";
import { alertConfigInvalid, alertStalled, probe } from "./watchdog.ts";

export const HOUSEKEEPING_CRON = "17 3 * * *";

export interface ScheduledOutcome {
  monitorId: string;
  checkId?: string;
  duplicate?: boolean;
  error?: string;
}

export async function runScheduled(cron: string, scheduledTime: number, env: Env): Promise<ScheduledOutcome[]> {
  const { monitors, problems, invalid } = loadConfig(env as unknown as Record<string, unknown>);
  // An entry with an error runs no check; it is never silent: on any check trigger (whatever its
  // schedule, which may be what is wrong) it alerts through the targets it has, once an hour.
  if (cron !== HOUSEKEEPING_CRON) await Promise.all(invalid.map((m) => alertConfigInvalid(env, m, scheduledTime)));
  if (monitors.length === 0) {
    console.warn(JSON.stringify({ event: "scheduled.no_monitors", problems: problems.map((p) => p.setting) }));
    return [];
  }
  // A monitor with a schedule runs only on its own trigger; the others on every check trigger.
  const due =
    cron === HOUSEKEEPING_CRON ? monitors : monitors.filter((m) => m.schedule === null || m.schedule === cron.trim());
  const outcomes = await Promise.all(
    due.map(async (m): Promise<ScheduledOutcome> => {
      const stub = monitorStub(env, m);
      try {
        if (cron === HOUSEKEEPING_CRON) {
          await stub.housekeeping(m.id);
          return { monitorId: m.id };
        }
        if (m.mode === "watch") {
          await stub.keepWatching(m.id);
          return { monitorId: m.id };
        }
        const r = await stub.startCheck({
          monitorId: m.id,
          tickKey: `cron:${scheduledTime}`,
          trigger: "cron",
          nextAt: nextFire(cron, scheduledTime),
        });
        return { monitorId: m.id, checkId: r.checkId, duplicate: r.duplicate };
      } catch (err) {
        const error = errorMessage(err);
        console.error(JSON.stringify({ event: "scheduled.rpc_failed", monitor: m.id, error }));
        return { monitorId: m.id, error };
      }
    }),
  );
  // Never silent: the Worker itself watches every object (the object may be what is broken).
  await Promise.all(
    due.map(async (m) => {
      const reason = await probe(env, m, m.schedule ?? cron);
      if (reason) await alertStalled(env, m, reason, scheduledTime);
    }),
  );
  return outcomes;
}
