/**
 * The check machine's state: everything one monitor's synthetic checks need, as ONE JSON-safe
 * record (no bigint, no Map, no Date). The Durable Object stores it as is and hands it back to
 * `step`; nothing else in the object decides. Deadlines are data here (plain times), never a
 * table of named alarms: the interpreter arms one alarm at `nextWake(state)` and the machine
 * reads its own deadlines when it fires, so a deadline armed before a restart can never decide.
 */
import type { Diagnosis, FlattenOutcome, Stage, Verdict } from "../diagnosis.ts";
import type { OrderFacts } from "./order.ts";
import type { Phase } from "./phases.ts";

/** Evidence values: JSON only. */
export type Evidence = Record<string, unknown>;

/** The monitor settings a check runs with (a JSON-safe copy of MonitorConfig's check part). */
export interface CheckSettings {
  /** `network:account:apiKey`, for logs and alerts. */
  monitorId: string;
  chainId: number;
  /** Account index, decimal text (can exceed 2^53). */
  account: string;
  apiKeyIndex: number;
  /** Markets checked in turn, one per check. */
  markets: number[];
  /** "continuous" keeps the session between checks; "on-demand" closes it after a grace period. */
  mode: "on-demand" | "continuous";
  /** Every duration of the machine is multiplied by this. */
  timeScale: number;
  /** Build, sign and verify the order, never send it. */
  dryRun: boolean;
  allowMainnet: boolean;
  allowNonflatStart: boolean;
  caps: {
    maxNotionalPerOrderUsd: number | null;
    maxOrdersPerDay: number | null;
    maxDailyNotionalUsd: number | null;
    maxResidualBase: number | null;
  };
  thresholds: {
    maxSpreadBps: number | null;
    maxSlippageBps: number;
    fillLatencyDegradedMs: number | null;
    bookStaleMs: number | null;
    /** How long REST may take to confirm a WebSocket fill (base ms, × time_scale). */
    restConfirmMs: number;
    /** How long the channels may take to report a fill REST already shows (base ms, × time_scale). */
    wsReportToleranceMs: number;
  };
}

/** What the interpreter knows about the monitor's configuration at an event. */
export interface Setup {
  /** null: the monitor's entry is gone from MONITORS or has errors (see `problems`). */
  settings: CheckSettings | null;
  /** Config problems of this monitor (errors make `settings` null). */
  problems: string[];
  /** Whether a private key secret is configured and parses; `error` says why not. */
  key: { present: boolean; error: string | null };
  /** Checks are paused over the API. */
  paused: boolean;
}

/** A market spec as JSON (MarketSpec with bigints as decimal text). */
export interface SpecJson {
  marketIndex: number;
  sizeDecimals: number;
  priceDecimals: number;
  minBase: string;
  minQuote: string;
  quoteDecimals: number;
}

/** A best price in ticks (decimal text) with the exchange's own text. */
export interface TopLevel {
  price: string;
  text: string;
}

/** One subscription as the machine believes it stands on the current connection. */
export type SubStatus =
  /** Not asked on this connection. */
  | "none"
  /** Asked, no answer yet. */
  | "pending"
  /** Acknowledged (its own ack frame, its first data frame, or 30003 naming this channel). */
  | "acked"
  /** The ack deadline passed with no refusal: assumed subscribed (account_orders' ack is undocumented). */
  | "assumed"
  /** Refused by an error frame attributed to this channel. */
  | "refused";

export type SubChannel = "order_book" | "account_orders" | "account_all_orders";

/** The WebSocket session, shared by checks and flattens (continuous mode keeps it between checks). */
export interface SessionState {
  status: "closed" | "connecting" | "open";
  /** Connection number: each `open` effect gets the next one; events of older connections are dropped. */
  conn: number;
  /** When the current connection opened (or the connect began, while connecting). */
  since: number | null;
  /** The connect attempt's deadline (while connecting). */
  connectDeadline: number | null;
  /** The market whose order_book (and account_orders) this connection carries. */
  market: number | null;
  subs: Record<SubChannel, SubStatus>;
  /** When each subscription was asked. */
  subAskedAt: Record<SubChannel, number | null>;
  /** While an account subscription is pending: when it counts as "assumed" (no refusal by then). */
  ackDeadline: number | null;
  /** The refusal that put a subscription in "refused": code and message. */
  refusal: { channel: SubChannel; code: number | null; message: string; at: number } | null;
  /** Top of the book of `market` from the latest snapshot/delta on this connection. */
  book: {
    ready: boolean;
    bestBid: TopLevel | null;
    bestAsk: TopLevel | null;
    updatedAt: number;
    bids: number;
    asks: number;
    /** Times the book was resubscribed after a gap or 30003 on this connection. */
    resyncs: number;
  };
  /** When the last frame of any kind arrived on this connection. */
  lastFrameAt: number | null;
  /** Per order channel family, when its last frame arrived. */
  lastAccountFrameAt: Partial<Record<"account_orders" | "account_all_orders", number>>;
  /** Reconnect backoff: failed attempts in a row, and when the next attempt is due (null: none planned). */
  retry: { attempts: number; at: number | null };
  /** On-demand mode: when the idle session is closed (null: not planned). */
  idleCloseAt: number | null;
  /**
   * The diagnosis of a check that found this connection's account stream silent about our order
   * (its subscriptions may be dead): the next check does not reuse it. Absent/null: reusable.
   */
  suspect?: string | null;
}

/** A signed CreateOrder as it will go on the wire, byte for byte (the write-ahead record). */
export interface SignedTx {
  txType: number;
  txInfo: string;
  txHash: string;
  nonce: string;
  expiredAt: number;
}

/** An order the machine planned: what is (or will be) signed. Amounts in exchange integers, as text. */
export interface PlannedOrder {
  coi: string;
  market: number;
  isAsk: boolean;
  baseAmount: string;
  price: number;
  reduceOnly: boolean;
  expiredAt: number;
  notionalUsd: number;
  sizeDecimals: number;
}

/** A request the machine issued and awaits (its result event carries the same `ref`). */
export interface Pending {
  ref: string;
  what: "preflight" | "sign" | "transmit" | "lookup" | "position" | "annotate";
  at: number;
  /** When the machine gives up waiting for the answer (it is then treated as lost). */
  until: number;
  /** The client order index it concerns, if any. */
  coi: string | null;
  /** The check it concerns (an annotation of a concluded check). */
  checkId?: string;
}

/** The order-path phases after pre-flight, plus the session phases and the machine's own. */
export type CheckPhase =
  | Phase
  /** Signing the test order (sign effect in flight). */
  | "sign"
  /** After a restart: REST look-ups first, no verdict from anything older. */
  | "recover"
  /** Verdict written; flatten (if any) runs in `flatten`. */
  | "done";

/** A stage's mark: when it was reached and how long since the previous mark. */
export interface StageMark {
  at: number;
  ms: number;
  [extra: string]: unknown;
}

/** The verdict of a check: written once, never changed. */
export interface VerdictRecord {
  verdict: Verdict;
  diagnosis: Diagnosis | null;
  /** The first stage that failed (fail/skipped only). */
  stage: Stage | null;
  reasons: Diagnosis[];
  at: number;
}

/** The flatten after a check that may have traded: closes exactly this check's own fill. */
export interface FlattenState {
  step:
    /** Waiting for the test order to be resolved (look-ups). */
    | "await_lock"
    /** Waiting for a session and a book (its own session if none). */
    | "await_book"
    /** Signing / sending / confirming the flatten order (`order`). */
    | "order"
    /** Reading the REST position to confirm the account is back where it was. */
    | "confirm_position";
  /** This check's own fill, signed (size units): + bought, − sold. The most the flatten may close. */
  ownFill: string;
  /** Already closed by earlier flatten orders of this check (signed, same sign as −ownFill). */
  closed: string;
  /** The position before the check (REST at pre-flight), size units, signed; null if unknown. */
  positionBefore: string | null;
  /** Flatten orders sent so far. */
  attempts: number;
  /** Connects the flatten made for its own session (bounded like a check's). */
  connects: number;
  /** The last flatten send was refused 21104 at once: the next signature asks the exchange for the nonce. */
  freshNonce: boolean;
  /** Times the flatten waited for a look-up of the test order. */
  lockWaits: number;
  /**
   * Where the own fill (and what is left to close) comes from: REST's record of the test order, or
   * — when REST cannot show it once the order can no longer trade — the REST position's move since
   * the pre-flight, checked against what our order could fill. Absent in records stored before.
   */
  source?: "rest" | "position";
  /**
   * Set when this flatten closes the open residue of an earlier check (see ResidueState) rather than
   * its own check's fill: that check's id, and — when someone else moved the position past the
   * residue — that extra amount (it stays on the account and is alerted, never traded).
   */
  carried?: { checkId: string; beyond: string | null };
  /** The current flatten order and its facts. */
  order: PlannedOrder | null;
  facts: OrderFacts | null;
  tx: SignedTx | null;
  /** When the current step gives up or looks again. */
  nextAt: number;
  /** The flatten's hard bound: then it fails (and alerts) whatever it was waiting for. */
  boundAt: number;
}

/** One synthetic check, from its trigger to the end of its flatten. */
export interface CheckRecord {
  id: string;
  tickKey: string;
  trigger: "cron" | "manual";
  market: number;
  startedAt: number;
  /** The hard bound: a verdict is written by then whatever the phases do (extended only by a restart's recovery). */
  boundAt: number;
  /** The settings the check started with (config edits apply to the next check). */
  settings: CheckSettings;
  /** A key was configured at start; without one the check is a dry run that signs nothing. */
  keyPresent: boolean;
  /** Build/sign locally, never send (settings.dryRun, or no key). */
  dryRun: boolean;
  phase: CheckPhase;
  /** When the current phase began (decide.ts measures its deadline from here). */
  phaseSince: number;
  /** Reconcile round, from 1. */
  round: number;
  /** The session stages' deadline (connect/book/orders/preflight/sign); null in order-path phases (decide owns those). */
  phaseDeadline: number | null;
  /** When the order path next needs a decision (decide's `wait until`). */
  wakeAt: number | null;
  stages: Partial<Record<Stage, StageMark>>;
  /** The position (size units, signed) and market spec read at pre-flight. */
  positionBefore: string | null;
  spec: SpecJson | null;
  /** The test order as planned and signed, and what we know about it. */
  order: PlannedOrder | null;
  tx: SignedTx | null;
  facts: OrderFacts | null;
  /** The session dropped during the check: [from, to] (to null while still down). */
  gaps: { from: number; to: number | null }[];
  /** Connects made for this check (bounded). */
  connects: number;
  /** REST order/tx look-ups made for this check (bounded by the REST budget). */
  lookups: number;
  /** The object restarted during the check (frames may have been missed). */
  interrupted: boolean;
  /** When REST first showed our order filled (the ws_report_tolerance_ms clock starts here). */
  restFillAt: number | null;
  /** Subscriptions the order's fill must be reported on (acked or assumed when the order was sent). */
  channels: string[];
  /** After a restart: the order-path phase to resume once the recovery look-up answered. */
  resume: { phase: Phase; round: number } | null;
  reasons: Diagnosis[];
  evidence: Evidence;
  verdict: VerdictRecord | null;
  /** WebSocket fill reports that came after the verdict (recorded, never re-judged). */
  lateReportAt: number | null;
  flatten: FlattenState | null;
  /** The flatten's outcome once it ended. */
  flattenOutcome: FlattenOutcome | null;
}

/** An earlier order of ours not yet resolved: no new order is signed until it is. */
export interface LockState {
  checkId: string;
  facts: OrderFacts;
  sizeDecimals: number;
  /** When the next look-up is due. */
  nextAt: number;
}

/**
 * The own fill a failed flatten left on the account. While it is open no test order is sent; each
 * trigger retries closing it through the flatten (sized from it only), and the `flatten` incident
 * stays open until the REST position is back at `positionBefore`.
 */
export interface ResidueState {
  /** The check whose flatten failed and left it. */
  checkId: string;
  market: number;
  /** Signed size units of that check's own fill still on the account (+ bought, − sold). */
  base: string;
  /** The position that check found (REST at pre-flight): where the account must come back to. */
  positionBefore: string;
  /** The market spec that check traded with (the closing order is sized and priced with it). */
  spec: SpecJson;
  /** When the residue was left. */
  since: number;
  /** Closing flattens that sent an order; past RESIDUE_MAX_TRIES only the position is watched. */
  tries: number;
  /**
   * The test order was unresolved when the flatten failed: `base` is its size (the most it could
   * fill) until the lock learns its fill from REST; the position decides what is left. Absent: exact.
   */
  upperBound?: boolean;
}

export interface MachineState {
  /** Record layout version. */
  v: 1;
  /** The check running or flattening; null between checks. */
  check: CheckRecord | null;
  /** The unresolved order of an earlier check (between checks). */
  lock: LockState | null;
  /** The latest finished check: a late WebSocket report of its order is still recorded on it. */
  last: CheckRecord | null;
  session: SessionState;
  /** Requests in flight: an answer whose ref is not here is stale and ignored. */
  pending: Pending[];
  /** Counter for refs and check ids. */
  seq: number;
  /** Last client order index counter (the low 40 bits). */
  coiCounter: string;
  /** Orders signed (not dry) today, for the daily caps. */
  budget: { day: number; orders: number; notionalUsd: number };
  /** Markets this monitor has had an order accepted on (a non-flat mainnet start is then ours). */
  tradedMarkets: number[];
  /** The latest tick keys and the check each ran (a repeated key runs nothing). */
  ticks: { key: string; checkId: string | null }[];
  /** Skip reasons of the latest checks, for monitor_blind. */
  skipStreak: string[];
  /** The latest setup seen (tick or config event). */
  setup: Setup | null;
  /** Verdicts concluded since the state was created (a counter for logs/benchmarks). */
  concluded: number;
  /**
   * When the next cron trigger fires, as the latest cron tick said: an on-demand session is held
   * after a check only when that is within the grace period. Absent or null: unknown (hold it).
   */
  nextTickAt?: number | null;
  /** The open residue of a failed flatten (absent/null: none). */
  residue?: ResidueState | null;
}

export const TICKS_KEPT = 32;

export function emptySession(conn = 0): SessionState {
  return {
    status: "closed",
    conn,
    since: null,
    connectDeadline: null,
    market: null,
    subs: { order_book: "none", account_orders: "none", account_all_orders: "none" },
    subAskedAt: { order_book: null, account_orders: null, account_all_orders: null },
    ackDeadline: null,
    refusal: null,
    book: { ready: false, bestBid: null, bestAsk: null, updatedAt: 0, bids: 0, asks: 0, resyncs: 0 },
    lastFrameAt: null,
    lastAccountFrameAt: {},
    retry: { attempts: 0, at: null },
    idleCloseAt: null,
  };
}

export function initialState(): MachineState {
  return {
    v: 1,
    check: null,
    lock: null,
    last: null,
    session: emptySession(),
    pending: [],
    seq: 0,
    coiCounter: "0",
    budget: { day: 0, orders: 0, notionalUsd: 0 },
    tradedMarkets: [],
    ticks: [],
    skipStreak: [],
    setup: null,
    concluded: 0,
  };
}

/** The earliest time the machine needs to be woken (a `wake` event), or null. */
export function nextWake(s: MachineState): number | null {
  const times: (number | null | undefined)[] = [
    s.session.connectDeadline,
    s.session.retry.at,
    s.session.idleCloseAt,
    s.session.ackDeadline,
    s.lock?.nextAt,
  ];
  for (const p of s.pending) times.push(p.until);
  const c = s.check;
  if (c) {
    if (c.verdict === null) times.push(c.boundAt, c.phaseDeadline, c.wakeAt);
    if (c.flatten) times.push(c.flatten.nextAt, c.flatten.boundAt);
  }
  let min: number | null = null;
  for (const t of times) if (typeof t === "number" && (min === null || t < min)) min = t;
  return min;
}
