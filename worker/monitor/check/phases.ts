/**
 * The pipeline of a synthetic check as ONE table: each phase, the stage it proves, what it waits
 * for and its deadline. The README's pipeline refers to this table; the Durable Object and the
 * model test both read their deadlines and the check's hard bound from it.
 */
import type { Stage } from "../diagnosis.ts";

export type Phase =
  "connect" | "book" | "orders" | "preflight" | "send" | "await_order" | "confirm" | "reconcile" | "late_watch";

export interface PhaseSpec {
  /** The stage a person reads when this phase fails. */
  stage: Stage;
  /** What the phase is waiting for. */
  waitsFor: string;
  /** Deadline at time_scale 1 (ms). */
  baseMs: number;
  /** What happens when the deadline passes. */
  onDeadline: string;
}

export const PHASES: Readonly<Record<Phase, PhaseSpec>> = {
  connect: {
    stage: "connect",
    waitsFor: "the WebSocket to open",
    baseMs: 10_000,
    onDeadline: "fail connect_timeout",
  },
  book: {
    stage: "book_subscribed",
    waitsFor: "the order_book snapshot",
    baseMs: 10_000,
    onDeadline: "fail book_ack_timeout",
  },
  orders: {
    stage: "orders_subscribed",
    waitsFor: "the account_orders ack (or an error frame)",
    baseMs: 10_000,
    onDeadline: "assume subscribed (the ack is undocumented); go to preflight",
  },
  preflight: {
    stage: "preflight",
    waitsFor: "REST: market spec, position, API key",
    baseMs: 20_000,
    onDeadline: "skip with the step that did not answer",
  },
  send: {
    stage: "order_accepted",
    waitsFor: "the sendTx reply (or, after a lost reply, a REST look-up)",
    baseMs: 20_000,
    onDeadline: "look the order and the tx up; resend the same bytes or conclude order_status_unknown",
  },
  await_order: {
    stage: "order_seen",
    waitsFor:
      "our order and its fill on the WebSocket (REST is polled meanwhile, from 500 ms after acceptance and backing off, within the REST budget: polling.ts)",
    baseMs: 15_000,
    onDeadline: "reconcile over REST",
  },
  confirm: {
    stage: "fill_seen",
    waitsFor: "REST to confirm what the WebSocket reported (rest_confirm_ms)",
    baseMs: 5_000,
    onDeadline: "ask REST for two reconcile rounds more, then degraded rest_lagging (the WebSocket fill stands)",
  },
  reconcile: {
    stage: "fill_seen",
    waitsFor: "REST: the order by client order index, the tx by hash",
    baseMs: 10_000,
    onDeadline: "one more round, then fill_timeout / order_status_unknown",
  },
  late_watch: {
    stage: "fill_seen",
    waitsFor:
      "the channels to report a fill REST already shows, ws_report_tolerance_ms from the fill's transaction_time (not before our send, not after REST's sighting)",
    baseMs: 3_000,
    onDeadline:
      "fail filled_not_reported_on_ws (reconnect_gap when the socket was down; check_interrupted after a restart)",
  },
};

/** Reconcile may run this many rounds before it concludes. */
export const RECONCILE_ROUNDS = 2;
/** Slack on top of the summed deadlines for REST round trips and alarm latency (time_scale 1). */
export const BOUND_MARGIN_MS = 15_000;

/** Per-monitor replacements of a phase's base deadline (e.g. `rest_confirm_ms` for `confirm`). */
export type PhaseOverrides = Partial<Record<Phase, number>>;

/** A phase's deadline at the monitor's time_scale. */
export function phaseDeadlineMs(phase: Phase, timeScale: number, overrides: PhaseOverrides = {}): number {
  return scaled(overrides[phase] ?? PHASES[phase].baseMs, timeScale);
}

/**
 * The hard bound of one check: every phase on the longest path (reconcile counted for each of
 * its rounds) plus a margin. The alarm enforces it whatever the phase logic does.
 */
export function checkBoundMs(timeScale: number, overrides: PhaseOverrides = {}): number {
  let sum = BOUND_MARGIN_MS;
  for (const [phase, spec] of Object.entries(PHASES) as [Phase, PhaseSpec][]) {
    sum += (overrides[phase] ?? spec.baseMs) * (phase === "reconcile" ? RECONCILE_ROUNDS : 1);
  }
  return scaled(sum, timeScale);
}

export function scaled(ms: number, timeScale: number): number {
  return Math.max(1, Math.round(ms * timeScale));
}
