/**
 * The alarm side of a monitor: serves due deadlines from the one table, and keeps the alarm
 * invocation alive while a check, a flatten or the session is active. workerd tears down an
 * outbound WebSocket when the event that opened it ends (cf. workerd#6774), so the session lives
 * inside this invocation, capped below the alarm's wall-clock limit; a continuous session then
 * reconnects from the next alarm.
 */
import { errorMessage } from "../../worker/lighter/errors.ts";
import { isCrash } from "../crash.ts";
import { earliestDeadline, getMeta, takeDueDeadlines } from "../schema.ts";
import type { MonitorContext } from "./context.ts";
import { currentId, runningCheck } from "./marks.ts";
import type { CheckRunner } from "./runner.ts";

/** How long one alarm invocation may hold the session (alarms have a 15 min wall-clock limit). */
const HOLD_LIMIT_MS = 10 * 60_000;
const HOLD_OVERRUN_MS = 3 * 60_000;

export class AlarmLoop {
  private readonly c: MonitorContext;
  private readonly runner: CheckRunner;
  private readonly other: (name: string) => Promise<boolean>;
  private wakeUp: (() => void) | null = null;

  /** `other` serves deadlines the runner does not own (e.g. the alert outbox); true when it did. */
  constructor(c: MonitorContext, runner: CheckRunner, other: (name: string) => Promise<boolean>) {
    this.c = c;
    this.runner = runner;
    this.other = other;
    c.onDeadlineSet = () => this.wake();
  }

  wake(): void {
    this.wakeUp?.();
  }

  async onAlarm(): Promise<void> {
    await this.processDue();
    await this.hold();
    await this.c.armAlarm();
  }

  async processDue(): Promise<void> {
    for (const d of takeDueDeadlines(this.c.sql, this.c.now())) {
      try {
        if (!(await this.other(d.name))) {
          await this.runner.onDeadline(d.name, JSON.parse(d.data) as { check?: string; phase?: string });
        }
      } catch (err) {
        // An alarm handler records the failure and goes on; it never throws into the runtime.
        if (isCrash(err)) throw err;
        this.c.event(
          "error",
          "alarm.handler_failed",
          { deadline: d.name, error: errorMessage(err) },
          currentId(this.c),
        );
      }
    }
  }

  /** Whether an event context must stay alive: a check, a flatten or an open session. */
  private active(): boolean {
    if (currentId(this.c)) return true;
    if (getMeta(this.c.sql, "flatten")) return true;
    if (this.runner.feed.isOpen) return true;
    const next = earliestDeadline(this.c.sql);
    return next !== null && next - this.c.now() < 2_000;
  }

  private async hold(): Promise<void> {
    if (this.c.holdUntil !== null) return;
    const until = this.c.now() + HOLD_LIMIT_MS;
    this.c.holdUntil = until;
    await this.c.armAlarm();
    try {
      // Never recycle in the middle of a check: it may overrun the soft cap, not the hard one.
      while (
        this.active() &&
        (this.c.now() < until || (runningCheck(this.c) !== null && this.c.now() < until + HOLD_OVERRUN_MS))
      ) {
        const next = earliestDeadline(this.c.sql);
        const wait = Math.max(5, Math.min(1_000, (next ?? this.c.now() + 1_000) - this.c.now()));
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, wait);
          this.wakeUp = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wakeUp = null;
        await this.processDue();
      }
      if (this.runner.feed.isOpen && this.c.cfg?.mode === "continuous") {
        this.runner.feed.close("context recycled");
        this.c.setDeadline("reconnect", this.c.now());
      }
    } finally {
      this.c.holdUntil = null;
    }
  }
}
