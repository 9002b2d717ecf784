/**
 * A watch monitor's settings as the machine sees them, from its config entry (durations at its
 * time_scale), and what a changed entry means for a running watch: nothing, new settings, or (another
 * account) a restart from that account's own record. Pure: the object (durable-objects/watch/shell.ts)
 * only carries the answer out.
 */
import type { MonitorConfig } from "../../config.ts";
import { RATE_LIMIT_PAUSE_MS, WINDOW_MS } from "./budget.ts";
import type { WatchSettings } from "./state.ts";

/** The machine's settings from a watch monitor's config; `scale` applies its time_scale to a duration. */
export function watchSettings(cfg: MonitorConfig, scale: (ms: number) => number): WatchSettings | null {
  const w = cfg.watch;
  if (!w) return null;
  return {
    account: cfg.accountIndex.toString(),
    markets: w.markets,
    windowMs: scale(w.windowMs),
    reconcileMs: scale(w.reconcileMs),
    maxOrders: w.maxOrdersTracked,
    restBudgetPerMin: w.restBudgetPerMin,
    tier: w.tier,
    resolveAfterCycles: w.resolveAfterCycles,
    secondMs: scale(1_000),
    budgetWindowMs: scale(WINDOW_MS),
    rateLimitPauseMs: scale(RATE_LIMIT_PAUSE_MS),
    bot: cfg.bot ? { windowMs: scale(cfg.bot.windowMs), silenceMs: scale(cfg.bot.silenceMs) } : null,
  };
}

/** What new settings mean for the running watch: `same`, `settings` (a `settings` event), or `restart`. */
export function settingsChange(running: WatchSettings, next: WatchSettings): "same" | "settings" | "restart" {
  if (JSON.stringify(next) === JSON.stringify(running)) return "same";
  return next.account === running.account ? "settings" : "restart";
}

/** How often the alarm loop turns the watch machine: its second at time_scale, 5 ms … 250 ms. */
export function watchTurnMs(s: WatchSettings): number {
  return Math.max(5, Math.min(s.secondMs, 250));
}
