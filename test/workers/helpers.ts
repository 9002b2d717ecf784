/**
 * Helpers for the workerd integration tests: run the real cron handler, read /status over the
 * real HTTP API, drive the simulator's control endpoints and read what the local webhook
 * receiver got. Everything talks to 127.0.0.1 over real sockets.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect, inject } from "vitest";
import worker from "../../worker/index.ts";

export interface TestMonitor {
  id: string;
  account_index: number;
  api_key_index: number;
  scenario: string;
  /** false for the MONITORS entries broken on purpose (they run no check). */
  valid: boolean;
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
  // Only this monitor's entry: an unfiltered /status asks every MONITORS entry's object (over a hundred
  // here) for five views on each poll, which made polling most of the workerd CPU of a test file.
  const res = await api(`/status?monitor=${encodeURIComponent(monitorId)}`);
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

/** A check as /status shows it, with its start and hard bound. */
export type Check = CheckJson & { started_at: number; bound_at: number | null };

/** Waits until check `checkId` (or the latest) has a verdict, flatten or not. */
export async function concluded(monitorId: string, checkId: string | null, timeoutMs: number): Promise<Check> {
  return waitFor(
    `a verdict on ${checkId ?? "the last check"}`,
    async () => {
      const c = (await monitorStatus(monitorId)).last_check;
      return c && c.verdict !== null && (checkId === null || c.id === checkId) ? (c as Check) : null;
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

/** An order as the simulator's /_sim/state lists it (the REST Order object plus its account). */
export interface SimOrder {
  client_order_id: string;
  account_index: number | string;
  status: string;
  is_ask: boolean;
  reduce_only: number | boolean;
  initial_base_amount: string;
  filled_base_amount: string;
}

/** Every order the simulator holds for the account, oldest first. */
export async function simOrders(accountIndex: number): Promise<SimOrder[]> {
  const state = (await (await sim(`/_sim/state?account_index=${accountIndex}`)).json()) as { orders?: SimOrder[] };
  return (state.orders ?? []).filter((o) => Number(o.account_index) === accountIndex);
}

export interface SimAccountState {
  /** Position per market id, signed, in size units (ETH: 4 decimals). */
  positions: Record<string, string>;
  api_keys: { api_key_index: number; next_nonce: number }[];
  /** When each WebSocket upgrade naming this account (`?sim_account=`) arrived, refused ones too. */
  ws_upgrades: number[];
}

/** The simulator's view of one account: positions, nonces, WebSocket upgrades. */
export async function simAccount(accountIndex: number): Promise<SimAccountState> {
  const state = (await (await sim(`/_sim/state?account_index=${accountIndex}`)).json()) as {
    accounts: (SimAccountState & { account_index: number | string })[];
  };
  const a = state.accounts.find((x) => Number(x.account_index) === accountIndex);
  if (!a) throw new Error(`the simulator has no account ${accountIndex}`);
  return a;
}

/** The account's signed position on `market`, in size units. */
export async function simPosition(accountIndex: number, market = 0): Promise<bigint> {
  return BigInt((await simAccount(accountIndex)).positions[String(market)] ?? "0");
}

export interface SimRequest {
  seq: number;
  at: number;
  method: string;
  path: string;
  account: string | null;
}

/** The REST requests the simulator logged after `since` (a seq). */
export async function simRequests(since = 0): Promise<SimRequest[]> {
  const res = await sim(`/_sim/requests?limit=5000&since=${since}`);
  return ((await res.json()) as { requests: SimRequest[] }).requests;
}

/** One API key's figures from the simulator's exact oracle (test/sim/oracle.ts, GET /_sim/oracle). */
export interface SimOracleKey {
  api_key_index: number;
  /** creates accepted by sendTx and not yet terminal / rejected by the application, now */
  unresolved: number;
  /** the most at once, at any order state change since the simulator started */
  max_unresolved: number;
  peak_at: number;
  peak_orders: { tx_hash: string; client_order_index: string; order_index: string | null; since: number }[];
  recent: { at: number; what: string; client_order_index: string; unresolved: number }[];
}

/** The simulator's exact "unresolved orders per API key" figures for the account, one entry per key used. */
export async function simOracle(accountIndex: number): Promise<SimOracleKey[]> {
  const res = await sim(`/_sim/oracle?account_index=${accountIndex}`);
  return ((await res.json()) as { keys: SimOracleKey[] }).keys;
}

/** The most unresolved orders any API key of the account ever had at once (0 if it never sent one), and the key. */
export async function maxUnresolved(accountIndex: number): Promise<{ max: number; key: SimOracleKey | null }> {
  let key: SimOracleKey | null = null;
  for (const k of await simOracle(accountIndex)) if (!key || k.max_unresolved > key.max_unresolved) key = k;
  return { max: key?.max_unresolved ?? 0, key };
}

/**
 * Never two unresolved orders per API key: asserts the oracle's max for every key of the account is
 * at most 1 (exact, every order state change since the simulator started, however short). `traded`:
 * the account is known to have sent an order, so the max must be exactly 1 (the oracle saw it).
 */
export async function expectOneUnresolvedAtMost(accountIndex: number, why = "", traded = false): Promise<number> {
  const { max, key } = await maxUnresolved(accountIndex);
  const peak = key && { at: key.peak_at, orders: key.peak_orders, recent: key.recent };
  const says = `account ${accountIndex}: ${max} unresolved orders of one key at once ${JSON.stringify(peak)} ${why}`;
  expect(max, says).toBeLessThanOrEqual(1);
  if (traded) expect(max, `the oracle saw no order: ${says}`).toBe(1);
  return max;
}

/** A short account of the monitor's last check, for failure messages. */
export async function lastCheckSummary(monitorId: string): Promise<string> {
  try {
    const c = (await monitorStatus(monitorId)).last_check;
    if (!c) return "no check";
    const { id, state, verdict, diagnosis, reasons, flatten } = c;
    return JSON.stringify({ id, state, verdict, diagnosis, reasons, flatten, stages: Object.keys(c.stages) });
  } catch (err) {
    return `status unavailable: ${String(err)}`;
  }
}

/** `p`, or its error with the monitor's last check appended. */
export async function explained<T>(monitorId: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw new Error(
      `${err instanceof Error ? err.message : String(err)}; last check: ${await lastCheckSummary(monitorId)}`,
      { cause: err },
    );
  }
}

let tick = 1_801_600_000_000;
/** The next cron fire time for a test's trigger: five minutes after the previous one. */
export const nextTick = (): number => (tick += 300_000);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs one trigger on `scenario`'s monitor and waits until its check is done (its flatten included). */
export async function settledCheck(scenario: string, timeoutMs = 40_000): Promise<Check> {
  const id = monitorFor(scenario).id;
  await runCron(scenario, nextTick());
  return (await explained(id, waitForVerdict(id, undefined, timeoutMs))) as Check;
}

/**
 * Runs checks until one places its test order (at most 5, 2 s apart): on a loaded machine the first
 * check of a fresh object may time out connecting or in pre-flight, and a check right after one whose
 * order REST could not show is skipped until the lock sees it resolved — neither is what a test of the
 * order's fate is about.
 */
export async function tradingCheck(scenario: string, timeoutMs = 60_000): Promise<Check> {
  let c: Check | null = null;
  for (let i = 0; i < 5 && (c === null || c.verdict === "skipped" || c.client_order_index === null); i++) {
    if (i > 0) await sleep(2_000);
    c = await settledCheck(scenario, timeoutMs);
  }
  return c!;
}

/** Waits until the running check on `monitorId` has its order accepted (and is still running). */
export async function orderAccepted(monitorId: string): Promise<Check> {
  return explained(
    monitorId,
    waitFor(
      "order accepted",
      async () => {
        const c = (await monitorStatus(monitorId)).last_check;
        return c && c.state !== "done" && c.stages.order_accepted ? (c as Check) : null;
      },
      20_000,
      20,
    ),
  );
}

/**
 * Runs triggers on `scenario`'s monitor until a check has its test order accepted (at most 3, 1 s
 * apart) and returns it, still running. A check that ended before it sent anything (a connect or
 * pre-flight deadline missed on a loaded machine: at time_scale 0.1 pre-flight has 2 s) traded
 * nothing, so the next trigger is harmless; one that ended after sending is an error, as in
 * `orderAccepted`.
 */
export async function acceptedCheck(scenario: string): Promise<Check> {
  const id = monitorFor(scenario).id;
  let prev = (await monitorStatus(id)).last_check?.id ?? null;
  for (let i = 0; i < 3; i++) {
    if (i > 0) await sleep(1_000);
    await runCron(scenario, nextTick());
    const c = await explained(
      id,
      waitFor(
        "order accepted, or the check over",
        async () => {
          const lc = (await monitorStatus(id)).last_check;
          if (!lc || lc.id === prev) return null;
          return lc.state === "done" || lc.stages.order_accepted ? (lc as Check) : null;
        },
        20_000,
        20,
      ),
    );
    if (c.state !== "done") return c;
    if (c.stages.order_accepted || c.client_order_index !== null)
      throw new Error(`check ${c.id} was over before its accepted order was seen running: ${JSON.stringify(c)}`);
    prev = c.id;
  }
  throw new Error(`no check of ${scenario} got its order accepted in 3 triggers; last: ${await lastCheckSummary(id)}`);
}
