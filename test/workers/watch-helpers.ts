/**
 * Helpers for the watch-mode workerd tests: start the simulator's trading bot on a scenario's
 * account, start the watch monitor through the real cron handler, read its /status `watch` view,
 * the simulator's per-account request log, and stop everything at the end.
 */
import { api, monitorFor, runCron, sim, waitFor, type TestMonitor } from "./helpers.ts";

export interface WatchFinding {
  trade_id: string;
  order_index: string;
  client_order_index: string | null;
  market: number;
  side: string;
  amount: string;
  verdict: string;
  delay_ms: number | null;
  reported_by: Record<string, number | null>;
}

export interface WatchView {
  cursor_trade_id: string | null;
  pending_fills: number;
  fills: Record<string, number>;
  recent_misses: WatchFinding[];
  recent_late: WatchFinding[];
  rest: { per_min: number; window_ms: number; spent_last_min: number; paused_until: number | null; calls: number };
}

export interface WatchStatus {
  session: { state: string; subscriptions: string[]; reconnects: number };
  watch: WatchView;
  incidents: { kind: string; diagnosis: string | null; failures: number }[];
}

export async function watchStatus(m: TestMonitor): Promise<WatchStatus> {
  const res = await api(`/status?monitor=${encodeURIComponent(m.id)}`);
  if (res.status !== 200) throw new Error(`/status answered ${res.status}`);
  const body = (await res.json()) as { monitors: (WatchStatus & { id: string })[] };
  const s = body.monitors.find((x) => x.id === m.id);
  if (!s?.watch) throw new Error(`no watch view for ${m.id}: ${JSON.stringify(s).slice(0, 300)}`);
  return s;
}

export async function simJson(path: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  const res = await sim(path, init);
  return (await res.json()) as Record<string, unknown>;
}

export async function startBot(m: TestMonitor, ratePerMin: number, seed = 1): Promise<void> {
  const res = await sim("/_sim/bot", {
    method: "POST",
    body: JSON.stringify({ account_index: String(m.account_index), rate_per_min: ratePerMin, seed }),
  });
  if (res.status !== 201) throw new Error(`bot refused: ${await res.text()}`);
}

export async function stopBot(m: TestMonitor): Promise<void> {
  await sim(`/_sim/bot/${m.account_index}`, { method: "DELETE" });
}

/** Starts the scenario's watch monitor (a cron tick) and waits until it subscribed and read its start cursor. */
export async function startWatch(scenario: string): Promise<TestMonitor> {
  const m = monitorFor(scenario);
  await runCron(scenario, Date.now());
  await waitFor(
    `watch session of ${scenario}`,
    async () => {
      const s = await watchStatus(m);
      return s.session.state === "open" && s.session.subscriptions.length >= 4 && s.watch.cursor_trade_id !== null;
    },
    20_000,
  );
  return m;
}

/** Pauses the monitor (its hold loop ends and the session closes) and stops the bot. */
export async function stopWatch(m: TestMonitor): Promise<void> {
  await stopBot(m);
  await api(`/pause?monitor=${encodeURIComponent(m.id)}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
}

export interface LoggedRequest {
  seq: number;
  at: number;
  method: string;
  path: string;
  authorization_header: boolean;
  token_in_url: boolean;
  account: string | null;
}

/** The simulator's REST request log for one account. */
export async function requestsOf(m: TestMonitor): Promise<LoggedRequest[]> {
  const body = await simJson(`/_sim/requests?limit=1000&account_index=${m.account_index}`);
  return body.requests as LoggedRequest[];
}

/** The largest number of requests inside any window of `windowMs`. */
export function maxInWindow(reqs: LoggedRequest[], windowMs: number): number {
  let best = 0;
  for (const r of reqs) best = Math.max(best, reqs.filter((x) => x.at > r.at - windowMs && x.at <= r.at).length);
  return best;
}

export async function addAccountFault(m: TestMonitor, fault: Record<string, unknown>): Promise<string> {
  const body = await simJson("/_sim/faults", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...fault, account_index: String(m.account_index) }),
  });
  if (typeof body.id !== "string") throw new Error(`fault refused: ${JSON.stringify(body)}`);
  return body.id;
}
