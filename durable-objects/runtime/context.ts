/**
 * What every part of a FillMonitor shares, check and watch alike: the metered SQLite handle, the
 * buffered event log and counters, the current configuration and key, the clock and time scale,
 * the auth-token cache (WebSocket and REST tokens, each re-minted a minute before it expires), REST
 * clients, the deadline table behind the one alarm, and the test crash hook.
 */
import type { ConfigProblem, MonitorConfig } from "../../worker/config.ts";
import { createAuthToken } from "../../worker/lighter/auth.ts";
import type { PrivateKey } from "../../worker/lighter/keys.ts";
import { LighterRestClient } from "../../worker/lighter/rest.ts";
import { privateKeyFrom, type SecretReader } from "../../worker/secrets.ts";
import { errorMessage } from "../../worker/lighter/errors.ts";
import { isCrash, type CrashPoint } from "./crash.ts";
import type { LogLevel } from "../../worker/views/logs.ts";
import { EventLog } from "../../worker/store/eventlog.ts";
import { earliestDeadline, setDeadline } from "../../worker/store/schema.ts";
import { meter } from "../../worker/store/meter.ts";
import { TOKEN_LIFETIME_S, alarmToSet, tokenFresh } from "../../worker/monitor/runtime.ts";

const REST_TIMEOUT_MS = 10_000;

export interface ContextOptions {
  monitorId: string;
  ctx: DurableObjectState;
  secret: SecretReader;
  config: { config: MonitorConfig | null; problems: ConfigProblem[] };
  /** The test crash hook: aborts the object at an armed point, does nothing otherwise. */
  crash: (point: CrashPoint) => void;
}

export class MonitorContext {
  readonly monitorId: string;
  readonly state: DurableObjectState;
  readonly sql: SqlStorage;
  readonly log: EventLog;
  readonly secret: SecretReader;
  /** Storage write statements issued by this instance (flushed into counters). */
  readonly writes = { count: 0 };
  cfg: MonitorConfig | null;
  problems: ConfigProblem[];
  key: PrivateKey | null = null;
  keyError: string | null = null;
  /** While an alarm invocation holds the session, the alarm is only a backstop (see alarm.ts). */
  holdUntil: number | null = null;
  /** Called whenever a deadline is set, so a held alarm invocation serves it without delay. */
  onDeadlineSet: (() => void) | null = null;
  /** The alarm owner's earliest deadline (kept in its own record), beside the table's. */
  ownerDue: (() => number | null) | null = null;
  private readonly crashHook: (point: CrashPoint) => void;
  private arming: Promise<void> | null = null;
  private armAgain = false;
  private readonly tokens = new Map<"ws" | "rest", { token: string; until: number }>();

  constructor(o: ContextOptions) {
    this.monitorId = o.monitorId;
    this.state = o.ctx;
    this.sql = meter(o.ctx.storage.sql, this.writes);
    this.log = new EventLog(this.sql, this.writes);
    this.secret = o.secret;
    this.crashHook = o.crash;
    this.cfg = o.config.config;
    this.problems = o.config.problems;
    this.loadKey();
  }

  refreshConfig(next: ContextOptions["config"]): void {
    const text = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x));
    // The config memo hands back the same object while nothing changed: no need to compare texts.
    const changed = next.config !== this.cfg && text(next.config) !== text(this.cfg);
    this.cfg = next.config;
    this.problems = next.problems;
    if (changed) this.loadKey();
  }

  private loadKey(): void {
    this.tokens.clear();
    const k = this.cfg ? privateKeyFrom(this.secret, this.cfg.privateKeySecretName) : null;
    this.key = k?.key ?? null;
    this.keyError = k?.error ?? null;
    if (k?.raw) this.log.setSecrets([k.raw]);
  }

  now(): number {
    return Date.now();
  }

  /** A duration at this monitor's time_scale. */
  scale(ms: number): number {
    return Math.max(1, Math.round(ms * (this.cfg?.timeScale ?? 1)));
  }

  event(level: LogLevel, event: string, data: Record<string, unknown>, checkId: string | null): void {
    this.log.write(level, event, { monitor: this.monitorId, ...data }, checkId, this.now());
  }

  /** Adds to a counter (buffered with the event log). */
  count(name: string, by = 1): void {
    this.log.count(name, by);
  }

  /** The cached auth token for WebSocket subscriptions (7 h) or REST calls (10 min), minted when due. */
  authToken(use: "ws" | "rest"): string {
    const now = this.now();
    const cached = this.tokens.get(use);
    if (cached && tokenFresh(cached.until, now)) return cached.token;
    const cfg = this.cfg;
    if (!cfg || !this.key) throw new Error("no private key configured");
    const lifetimeS = TOKEN_LIFETIME_S[use];
    const { accountIndex, apiKeyIndex } = cfg;
    const token = createAuthToken(this.key, {
      deadline: Math.floor(now / 1000) + lifetimeS,
      accountIndex,
      apiKeyIndex,
    });
    this.tokens.set(use, { token, until: now + lifetimeS * 1000 });
    return token;
  }

  /** A REST client for the configured network (throws when the configuration is gone). */
  rest(): LighterRestClient {
    const cfg = this.cfg;
    if (!cfg) throw new Error("the monitor's configuration is gone (or has errors)");
    return new LighterRestClient({
      baseUrl: cfg.restUrl,
      timeoutMs: this.scale(REST_TIMEOUT_MS),
      authToken: () => this.authToken("rest"),
    });
  }

  setDeadline(name: string, at: number, data: unknown = {}): void {
    setDeadline(this.sql, name, at, data);
    this.deadlinesChanged();
  }

  /** The earliest deadline of the table and of the alarm's owner. */
  nextDeadline(): number | null {
    const table = earliestDeadline(this.sql);
    const own = this.ownerDue?.() ?? null;
    return table === null ? own : own === null ? table : Math.min(table, own);
  }

  /** Wakes a held alarm invocation (a deadline in the owner's record changed). */
  deadlinesChanged(): void {
    this.spawn(this.armAlarm());
    this.onDeadlineSet?.();
  }

  /**
   * Arms the one alarm at the earliest deadline (held invocations serve deadlines themselves).
   * Calls are serialized and each pass reads the deadlines when it runs, so two callers racing
   * can never leave the alarm at a stale, later time.
   */
  armAlarm(): Promise<void> {
    this.armAgain = true;
    this.arming ??= (async () => {
      try {
        while (this.armAgain) {
          this.armAgain = false;
          await this.armOnce();
        }
      } finally {
        this.arming = null;
      }
    })();
    return this.arming;
  }

  private async armOnce(): Promise<void> {
    const existing = await this.state.storage.getAlarm();
    const at = alarmToSet(existing, this.nextDeadline(), this.holdUntil, this.now());
    if (at !== null) await this.state.storage.setAlarm(at);
  }

  /** Runs a task without awaiting it; its failure is logged, never an unhandled rejection. */
  spawn(task: Promise<unknown>): void {
    const guarded = task.catch((err: unknown) => {
      if (isCrash(err)) return;
      try {
        this.event("error", "task.failed", { error: errorMessage(err) }, null);
      } catch {
        // storage unavailable (the object is shutting down)
      }
    });
    this.state.waitUntil(guarded);
  }

  crash(point: CrashPoint): void {
    this.crashHook(point);
  }
}
