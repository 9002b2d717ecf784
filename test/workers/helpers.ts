/**
 * Helpers for the workerd integration tests: run the real cron handler, read /status over the
 * real HTTP API, drive the simulator's control endpoints and read what the local webhook
 * receiver got. Everything talks to 127.0.0.1 over real sockets.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { inject } from "vitest";
import worker from "../../worker/index.ts";

export interface TestMonitor {
  id: string;
  account_index: number;
  api_key_index: number;
  scenario: string;
}

export const API_TOKEN = "test-api-token-0123456789";

export function simRest(): string {
  return inject("simRest");
}

export function monitorFor(scenario: string): TestMonitor {
  const all: TestMonitor[] = inject("monitors");
  const m = all.find((x) => x.scenario === scenario);
  if (!m) throw new Error(`no test monitor for scenario ${scenario}`);
  return m;
}

/**
 * Runs the Worker's real `scheduled` handler as a cron delivery at `scheduledTime`. The Worker
 * sees only `scenario`'s monitor in MONITORS, so a test never starts checks on other files'
 * monitors; the Durable Object still reads the full configuration from its own env.
 */
export async function runCron(scenario: string, scheduledTime: number, cron = "*/5 * * * *"): Promise<void> {
  const m = monitorFor(scenario);
  const all = JSON.parse(inject("monitorsJson")) as { account_index: number }[];
  const mine = all.filter((c) => c.account_index === m.account_index);
  const controller = createScheduledController({ scheduledTime, cron });
  const ctx = createExecutionContext();
  await worker.scheduled(controller, { ...(env as object), MONITORS: JSON.stringify(mine) } as never, ctx);
  await waitOnExecutionContext(ctx);
}

export async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("Authorization")) headers.set("Authorization", `Bearer ${API_TOKEN}`);
  return exports.default.fetch(`http://fillwatch.test${path}`, { ...init, headers });
}

export interface CheckJson {
  id: string;
  state: "running" | "done";
  verdict: string | null;
  first_failing_stage: string | null;
  diagnosis: string | null;
  reasons: string[];
  stages: Record<string, { at: number; ms: number }>;
  evidence: Record<string, unknown>;
  action: string | null;
  flatten: string | null;
  client_order_index: string | null;
}

export async function monitorStatus(
  monitorId: string,
): Promise<Record<string, unknown> & { last_check: CheckJson | null }> {
  const res = await api("/status");
  if (res.status !== 200) throw new Error(`/status answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as {
    monitors: (Record<string, unknown> & { id: string; last_check: CheckJson | null })[];
  };
  const m = body.monitors.find((x) => x.id === monitorId);
  if (!m) throw new Error(`monitor ${monitorId} not in /status`);
  return m;
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/** Waits until the monitor's check `checkId` (or its latest) is done, and returns it. */
export async function waitForVerdict(monitorId: string, checkId?: string, timeoutMs = 20_000): Promise<CheckJson> {
  return waitFor(
    `verdict of ${checkId ?? "last check"} on ${monitorId}`,
    async () => {
      const s = await monitorStatus(monitorId);
      const c = s.last_check;
      if (!c || c.state !== "done") return null;
      if (checkId && c.id !== checkId) return null;
      return c;
    },
    timeoutMs,
  );
}

export async function sim(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${simRest()}${path}`, init);
}

export async function addFault(fault: Record<string, unknown>): Promise<string> {
  const res = await sim("/_sim/faults", {
    method: "POST",
    body: JSON.stringify(fault),
    headers: { "content-type": "application/json" },
  });
  if (res.status >= 300) throw new Error(`fault ${JSON.stringify(fault)} refused: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { id: string };
  return body.id;
}

export async function clearFault(id: string): Promise<void> {
  await sim(`/_sim/faults/${encodeURIComponent(id)}`, { method: "DELETE" });
}

export interface ReceivedAlert {
  at: number;
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** What the local receiver got on `path`. */
export async function received(path: string): Promise<ReceivedAlert[]> {
  const res = await fetch(`${inject("hookUrl")}/_received?path=${encodeURIComponent(path)}`);
  return (await res.json()) as ReceivedAlert[];
}

/** What the local webhook receiver got on /hook/<monitor scenario>. */
export function receivedAlerts(scenario: string): Promise<ReceivedAlert[]> {
  return received(`/hook/${scenario}`);
}
