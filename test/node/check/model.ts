/**
 * The model test's schedule language and its properties: random schedules of ticks, time, world
 * faults (lost replies, REST lag/outage/flap/refused auth/forgotten orders, deferred rejections, withheld and forged frames,
 * refused auth, stray 30003s, refused connections), restarts at any step, socket drops and storms,
 * positions already open (long and short), dry run, hanging alert targets, configuration removed
 * or changed between checks — run against the REAL machine through the test interpreter, and the
 * list of properties every run must keep.
 */
import fc from "fast-check";
import { MAX_CONNECTS_PER_CHECK } from "../../../worker/monitor/check/ctx.ts";
import { boundMs } from "../../../worker/monitor/check/start.ts";
import { Harness, TIME_SCALE, settings } from "./harness.ts";
import { MIN_BASE, World, type Knobs } from "./world.ts";

export type Action =
  | { t: "advance"; ms: number }
  | { t: "tick" }
  | { t: "repeat_tick" }
  | { t: "knobs"; knobs: Partial<Knobs> }
  | { t: "forge"; how: "account" | "order_index" }
  | { t: "restart" }
  | { t: "drop"; jitter: number }
  | { t: "storm"; drops: number; gap: number; jitter: number }
  | { t: "position"; base: number }
  | { t: "alerts_hang"; hang: boolean }
  | { t: "config"; change: "dry_run" | "live" | "removed" | "no_key" | "key" };

const STEP_MAX = 400;

/** One or two world faults at a time (all of them at once would only ever test a dead exchange). */
const oneKnob: fc.Arbitrary<Partial<Knobs>> = fc.oneof(
  fc.integer({ min: 0, max: 800 }).map((execLatency) => ({ execLatency })),
  fc.integer({ min: 0, max: 8_000 }).map((restLag) => ({ restLag })),
  fc.boolean().map((restDown) => ({ restDown })),
  fc.boolean().map((restFlap) => ({ restFlap })),
  fc.boolean().map((restAuthRefused) => ({ restAuthRefused })),
  fc.boolean().map((restForget) => ({ restForget })),
  fc.constantFrom("ok", "5xx", "timeout").map((replyMode) => ({ replyMode }) as Partial<Knobs>),
  fc.boolean().map((appReject) => ({ appReject })),
  fc.boolean().map((fills) => ({ fills })),
  fc.boolean().map((withholdWs) => ({ withholdWs })),
  fc.boolean().map((rejectAuth) => ({ rejectAuth })),
  fc.boolean().map((stray30003) => ({ stray30003 })),
  fc.boolean().map((refuseConnections) => ({ refuseConnections })),
  fc.boolean().map((partial) => ({ partial })),
);
const knobs = fc.array(oneKnob, { minLength: 1, maxLength: 2 }).map((ks) => Object.assign({}, ...ks) as Partial<Knobs>);

export const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: STEP_MAX }).map((ms) => ({ t: "advance" as const, ms })) },
  { weight: 3, arbitrary: fc.integer({ min: 400, max: 4_000 }).map((ms) => ({ t: "advance" as const, ms })) },
  { weight: 3, arbitrary: fc.constant({ t: "tick" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "repeat_tick" as const }) },
  { weight: 3, arbitrary: knobs.map((k) => ({ t: "knobs" as const, knobs: k })) },
  { weight: 1, arbitrary: fc.constantFrom("account", "order_index").map((how) => ({ t: "forge" as const, how })) },
  { weight: 2, arbitrary: fc.constant({ t: "restart" as const }) },
  {
    weight: 1,
    arbitrary: fc.double({ min: 0, max: 0.999, noNaN: true }).map((jitter) => ({ t: "drop" as const, jitter })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        drops: fc.integer({ min: 2, max: 12 }),
        gap: fc.integer({ min: 1, max: 60 }),
        jitter: fc.double({ min: 0, max: 0.999, noNaN: true }),
      })
      .map((r) => ({ t: "storm" as const, ...r })),
  },
  { weight: 2, arbitrary: fc.integer({ min: -400, max: 400 }).map((base) => ({ t: "position" as const, base })) },
  { weight: 1, arbitrary: fc.boolean().map((hang) => ({ t: "alerts_hang" as const, hang })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom("dry_run", "live", "removed", "no_key", "key")
      .map((change) => ({ t: "config" as const, change })),
  },
);

export interface Run {
  w: World;
  h: Harness;
  problems: string[];
}

const STALE_VERDICTS = new Set([
  "filled_not_reported_on_ws",
  "fill_timeout",
  "order_status_unknown",
  "fill_missing_on_channel",
  "reconnect_gap",
]);

/** Checks every property on the harness's records now. */
function invariants(w: World, h: Harness, problems: string[]): void {
  if (w.inFlight() > 1) problems.push(`${w.inFlight()} of our txs could still execute at ${w.now}`);
  const opens = h.opens;
  for (const [key, n] of opens) {
    if (n > MAX_CONNECTS_PER_CHECK) problems.push(`${key} opened ${n} connections`);
  }
  const signOf = new Map(h.signs.map((s) => [s.coi, s]));
  for (const t of h.transmits) {
    const s = signOf.get(t.coi);
    if (!s || s.dryRun) problems.push(`a sendTx of ${t.coi} in a dry run`);
    const refused = t.checkId ? h.refusedAt.get(t.checkId) : undefined;
    const test = t.checkId
      ? h.records.get(t.checkId)?.order?.coi === t.coi || h.state.check?.order?.coi === t.coi
      : false;
    if (test && refused !== undefined && refused <= t.at) {
      problems.push(`${t.checkId} sent its order after an account subscription was refused`);
    }
  }
  const seen = new Map<string, string>();
  for (const r of h.recordLog) {
    const v = JSON.stringify(r.verdict);
    const before = seen.get(r.id);
    if (before !== undefined && before !== v) problems.push(`verdict of ${r.id} changed: ${before} → ${v}`);
    seen.set(r.id, v);
  }
  for (const [id, r] of h.records) {
    const v = r.verdict;
    if (!v) continue;
    if (v.at > r.boundAt) problems.push(`${id} concluded ${v.at - r.boundAt} ms after its bound`);
    const restartedDuring = h.restarts.filter((t) => t >= r.startedAt && t <= v.at);
    const ceiling = Math.max(r.startedAt + boundMs(r.settings), ...restartedDuring.map((t) => t + 30_000 * TIME_SCALE));
    if (r.boundAt > ceiling) problems.push(`${id}'s bound was pushed to ${r.boundAt} (ceiling ${ceiling})`);
    const coi = r.order?.coi ?? null;
    const executed = coi ? w.executedFor(coi) : [];
    if (executed.length > 1) problems.push(`${id} created ${executed.length} orders`);
    if (r.dryRun && h.signs.some((s) => s.checkId === id && !s.dryRun))
      problems.push(`${id} signed a live order in a dry run`);
    const filled = executed.some((e) => e.filled > 0n);
    const lagging = v.diagnosis === "rest_lagging" || v.diagnosis === "check_interrupted";
    if ((v.verdict === "pass" || v.verdict === "degraded") && !lagging && !filled) {
      problems.push(`${id} is ${v.verdict} (${v.diagnosis}) without a fill on the exchange`);
    }
    const sent = r.facts !== null && r.facts.transmissions > 0;
    if (r.interrupted && sent && v.diagnosis !== null && STALE_VERDICTS.has(v.diagnosis)) {
      problems.push(`${id} was interrupted and concluded ${v.diagnosis} (a stale deadline decided)`);
    }
    // A flatten never exceeds the check's own fill or the per-order cap.
    // A trigger skipped for an open residue closes at most that residue (the earlier check's own fill).
    const residue = v.diagnosis === "residue_open" ? (r.evidence.residue as { base?: string } | undefined) : undefined;
    const residueBase = residue?.base ? BigInt(residue.base) : 0n;
    const own = residue ? (residueBase < 0n ? -residueBase : residueBase) : executed.reduce((a, e) => a + e.filled, 0n);
    const flattenCois = new Set<string>();
    for (const s of h.signs.filter((x) => x.checkId === id && x.flatten)) {
      flattenCois.add(s.coi);
      if (s.base > own) problems.push(`${id}'s flatten of ${s.base} exceeds its own fill ${own}`);
      const cap = r.settings.caps.maxNotionalPerOrderUsd;
      if (cap !== null && s.notional > cap) problems.push(`${id}'s flatten notional ${s.notional} exceeds ${cap}`);
    }
    // Nor do its flatten orders together: what they filled on the exchange is at most the own fill.
    let flattened = 0n;
    for (const coi of flattenCois) for (const e of w.executedFor(coi)) flattened += e.filled;
    if (flattened > own) problems.push(`${id}'s flatten orders filled ${flattened} in all, over its own fill ${own}`);
    // The account ends where it was, unless an alert says why.
    // A trigger that closed a residue must bring the position back where the residue's check found it.
    const found = (residue as { position_before_base?: string } | undefined)?.position_before_base;
    const seen = h.positions.get(id);
    const p = seen && found !== undefined ? { ...seen, start: BigInt(found) } : seen;
    // Within the order's rounding: a residue below the market minimum cannot be traded away.
    const diff = p && p.end !== null ? (p.end > p.start ? p.end - p.start : p.start - p.end) : 0n;
    if (p && p.end !== null && r.flattenOutcome !== null && diff >= MIN_BASE) {
      const said = h.alerts.some((a) => a.result.checkId === `${id}:flatten` && a.result.verdict === "fail");
      if (!said) problems.push(`${id} left the position at ${p.end} (was ${p.start}) without an alert`);
    }
  }
  flattenIncidents(w, h, problems);
  for (const fx of h.effects) {
    if (fx.kind === "log" && fx.event === "machine.bad_event")
      problems.push(`the machine refused an event: ${JSON.stringify(fx.data)}`);
  }
  const c = h.state.check;
  if (c && c.verdict === null && w.now > c.boundAt + 1)
    problems.push(`${c.id} still running ${w.now - c.boundAt} ms past its bound`);
}

/**
 * "An alert says why not" must still be open while the position differs: no `flatten` incident
 * resolves (a pass on the stream) while the position differs from where the check that opened it
 * found it — unless someone else's trading moved the position in between.
 */
function flattenIncidents(w: World, h: Harness, problems: string[]): void {
  let open: { checkId: string; at: number; start: bigint } | null = null;
  for (const a of h.alerts) {
    if (a.stream !== "flatten") continue;
    const checkId = a.result.checkId.replace(/:flatten$/, "");
    if (a.result.verdict === "fail") {
      const start = h.positions.get(checkId)?.start;
      if (!open && start !== undefined) open = { checkId, at: a.at, start };
      continue;
    }
    if (!open) continue;
    const diff = a.position > open.start ? a.position - open.start : open.start - a.position;
    const moved = w.userMovesAt.some((t) => t >= open!.at && t <= a.at);
    if (diff >= MIN_BASE && !moved) {
      problems.push(
        `the flatten incident of ${open.checkId} resolved by ${checkId} at position ${a.position} (was ${open.start})`,
      );
    }
    open = null;
  }
}

export function runSchedule(actions: Action[]): Run {
  const w = new World();
  const h = new Harness(w);
  const problems: string[] = [];
  let keys = 0;
  for (const a of actions) {
    switch (a.t) {
      case "advance":
        h.runUntil(w.now + a.ms);
        break;
      case "tick":
        h.tick(`k${++keys}`);
        break;
      case "repeat_tick":
        if (keys > 0) h.tick(`k${keys}`);
        break;
      case "knobs":
        Object.assign(w.knobs, a.knobs);
        break;
      case "forge": {
        const coi = h.state.check?.order?.coi;
        if (coi) w.forge(coi, a.how);
        break;
      }
      case "restart":
        h.restart();
        break;
      case "drop":
        h.drop(a.jitter);
        break;
      case "storm":
        for (let i = 0; i < a.drops; i++) {
          h.drop(a.jitter);
          h.runUntil(w.now + a.gap);
        }
        break;
      case "position":
        // Someone else's trading moves the position only between checks.
        if (!h.state.check) {
          w.position = BigInt(a.base);
          w.userMovesAt.push(w.now);
        }
        break;
      case "alerts_hang":
        h.knobs.alertsHang = a.hang;
        break;
      case "config":
        if (a.change === "dry_run") h.knobs.settings = settings({ dryRun: true });
        else if (a.change === "live") h.knobs.settings = settings();
        else if (a.change === "removed") h.knobs.settings = null;
        else h.knobs.keyPresent = a.change === "key";
        h.config();
        break;
    }
    invariants(w, h, problems);
  }
  // Drain: the exchange heals; every check must conclude and every flatten end.
  Object.assign(w.knobs, {
    restDown: false,
    restLag: 0,
    restFlap: false,
    restAuthRefused: false,
    restForget: false,
    rejectAuth: false,
    refuseConnections: false,
    replyMode: "ok",
  });
  h.runUntil(w.now + 60_000);
  invariants(w, h, problems);
  if (h.state.check) problems.push(`${h.state.check.id} never ended (${h.state.check.phase})`);
  for (const t of h.state.ticks) {
    if (t.checkId && !h.records.get(t.checkId)?.verdict) problems.push(`${t.checkId} has no verdict`);
  }
  return { w, h, problems: [...new Set(problems)] };
}
