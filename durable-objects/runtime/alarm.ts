/**
 * The one alarm of a monitor, for whichever owner runs it (the check shell or the watch): serves
 * due deadlines (the owner's own, kept as data in its record, then the table's), and keeps the
 * alarm invocation alive while the owner is active. workerd tears down an outbound WebSocket when
 * the event that opened it ends (cf. workerd#6774), so a session lives inside this invocation,
 * capped below the alarm's wall-clock limit; the owner then arranges the next invocation.
 */
import { errorMessage } from "../../worker/lighter/errors.ts";
import type { MonitorContext } from "./context.ts";
import { isCrash } from "./crash.ts";
import { takeDueDeadlines } from "../../worker/store/schema.ts";
import { HOLD_LIMIT_MS, holdWaitMs, holdsOn } from "../../worker/monitor/runtime.ts";

export interface AlarmOwner {
  /** Runs first in every invocation, before any deadline (e.g. the restart of an evicted check). */
  begin(): Promise<void>;
  /** Serves the owner's own deadlines that are due (they live in its record). */
  serveDue(now: number): Promise<void>;
  /** Serves a due deadline of the table (never awaited for long: slow work is spawned). */
  onDeadline(name: string, data: unknown): Promise<void>;
  /** The owner's earliest deadline, or null. */
  nextDue(): number | null;
  /** Whether the invocation must stay alive (a running check, an open session…). */
  active(): boolean;
  /** Whether the invocation may run past the soft cap (never in the middle of a check). */
  mayOverrun(): boolean;
  /** The invocation is ending at its cap: close what cannot outlive it, arrange the next one. */
  recycled(): void;
}

export class AlarmLoop {
  private readonly c: MonitorContext;
  private readonly owner: AlarmOwner;
  private wakeUp: (() => void) | null = null;

  constructor(c: MonitorContext, owner: AlarmOwner) {
    this.c = c;
    this.owner = owner;
    c.onDeadlineSet = () => this.wake();
    c.ownerDue = () => owner.nextDue();
  }

  /** A held invocation serves a deadline set meanwhile without waiting for its next turn. */
  wake(): void {
    this.wakeUp?.();
  }

  async onAlarm(): Promise<void> {
    await this.owner.begin();
    await this.processDue();
    await this.hold();
    await this.c.armAlarm();
  }

  private async processDue(): Promise<void> {
    try {
      await this.owner.serveDue(this.c.now());
    } catch (err) {
      this.failed("check", err);
    }
    for (const d of takeDueDeadlines(this.c.sql, this.c.now())) {
      try {
        await this.owner.onDeadline(d.name, JSON.parse(d.data) as unknown);
      } catch (err) {
        this.failed(d.name, err);
      }
    }
  }

  /** An alarm handler records the failure and goes on; it never throws into the runtime. */
  private failed(deadline: string, err: unknown): void {
    if (isCrash(err)) throw err;
    this.c.event("error", "alarm.handler_failed", { deadline, error: errorMessage(err) }, null);
  }

  private async hold(): Promise<void> {
    if (this.c.holdUntil !== null) return;
    const until = this.c.now() + HOLD_LIMIT_MS;
    this.c.holdUntil = until;
    await this.c.armAlarm();
    try {
      while (holdsOn(this.owner.active(), this.owner.mayOverrun(), until, this.c.now())) {
        const wait = holdWaitMs(this.c.nextDeadline(), this.c.now());
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
      if (this.owner.active()) this.owner.recycled();
    } finally {
      this.c.holdUntil = null;
    }
  }
}
