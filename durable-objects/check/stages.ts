/**
 * The session stages of a check — connect, book_subscribed, orders_subscribed — driven by the
 * feed's events: each stage's mark, its refusals (diagnosed with the exchange code at the stage
 * the check was in), a drop of the socket, and the hand-over to pre-flight.
 */
import { PHASES, type Phase } from "../../worker/monitor/check/phases.ts";
import { describeCode, type Diagnosis, type Stage } from "../../worker/monitor/diagnosis.ts";
import { errorMessage } from "../../worker/lighter/errors.ts";
import { getMeta, setMeta } from "../runtime/schema.ts";
import type { MonitorContext } from "../runtime/context.ts";
import type { Feed } from "./feed.ts";
import { markStage, runningCheck, runningCheckNamed, setPhase } from "./marks.ts";
import { checkApiKey } from "./preflight-io.ts";
import { readCheck, writeCheck, type CheckRow } from "./store.ts";
import type { Verdicts } from "./verdict.ts";

const SESSION_PHASES: ReadonlySet<string> = new Set(["connect", "book", "orders"]);

export class SessionStages {
  private readonly c: MonitorContext;
  private readonly feed: Feed;
  private readonly verdicts: Verdicts;
  private readonly toPreflight: (check: CheckRow) => void;

  constructor(c: MonitorContext, feed: Feed, verdicts: Verdicts, toPreflight: (check: CheckRow) => void) {
    this.c = c;
    this.feed = feed;
    this.verdicts = verdicts;
    this.toPreflight = toPreflight;
  }

  private fail(id: string, diagnosis: Diagnosis, evidence: Record<string, unknown>, stage?: Stage): void {
    this.verdicts.conclude(id, { verdict: "fail", diagnosis, evidence, ...(stage ? { stage } : {}) });
  }

  /** Connect (or reuse the session), then subscribe the book. */
  async drive(id: string): Promise<void> {
    const c0 = runningCheckNamed(this.c, id);
    if (!c0) return;
    if (!this.feed.isOpen) setPhase(this.c, c0, "connect");
    const res = await this.feed.ensureOpen(id);
    const c = runningCheckNamed(this.c, id);
    if (!c) return;
    if (!res.ok) {
      const limited = res.status === 429 || res.status === 403;
      const timeout = /timed? ?out|abort/i.test(res.message);
      return this.fail(id, limited ? "connection_limited" : timeout ? "connect_timeout" : "connect_failed", {
        url: this.c.cfg?.wsUrl ?? null,
        http_status: res.status ?? null,
        error: res.message,
      });
    }
    const openedAt = this.feed.openedAt ?? this.c.now();
    markStage(this.c, c, "connect", openedAt, { reused: openedAt < c.started_at });
    const book = this.feed.books.get(c.market);
    if (this.feed.subscribedBooks.has(c.market) && book?.top().bestBid !== undefined) {
      markStage(this.c, c, "book_subscribed", this.c.now(), { reused: true });
      return this.subscribeOrders(c);
    }
    setPhase(this.c, c, "book");
    this.feed.subscribeBook(c.market);
  }

  private subscribeOrders(c: CheckRow): void {
    if (!this.c.key) {
      c.evidence.orders_subscription = this.c.keyError
        ? `not attempted: ${this.c.keyError}`
        : "not attempted: dry run (no private key)";
      return this.toPreflight(c);
    }
    if (this.feed.subscribedOrders.has(c.market)) {
      markStage(this.c, c, "orders_subscribed", this.c.now(), { reused: true });
      return this.toPreflight(c);
    }
    setPhase(this.c, c, "orders");
    this.feed.subscribeOrders(c.market);
  }

  onBookSnapshot(market: number, at: number, levels: number): void {
    const c = runningCheck(this.c);
    if (!c || c.phase !== "book" || c.market !== market) return;
    markStage(this.c, c, "book_subscribed", at, { levels });
    this.subscribeOrders(c);
  }

  onOrdersSubscribed(market: number, at: number, via: string | null): void {
    const c = runningCheck(this.c);
    if (!c || c.phase !== "orders" || c.market !== market) return;
    markStage(this.c, c, "orders_subscribed", at, via ? { via } : {});
    this.toPreflight(c);
  }

  /** The ack of account_orders is undocumented: no error within the deadline means subscribed. */
  ordersAckDeadline(c: CheckRow): void {
    this.feed.subscribedOrders.add(c.market);
    markStage(this.c, c, "orders_subscribed", this.c.now(), { via: "no error within deadline" });
    this.toPreflight(c);
  }

  onErrorFrame(code: number | null, message: string, at: number): void {
    const c = runningCheck(this.c);
    this.c.event("warn", "frame.error", { code, message, phase: c?.phase ?? null }, c?.id ?? null);
    if (!c) return;
    const evidence = { exchange_code: code, exchange_message: message, code_meaning: describeCode(code), at };
    const rateLimited = code === 30009 || code === 30010;
    if (code === 30003) {
      // Already subscribed: the subscription holds but sends no new snapshot; the book needs one.
      if (c.phase === "book" && !c.evidence.book_resubscribed) {
        c.evidence.book_resubscribed = true;
        writeCheck(this.c.sql, c);
        this.feed.resubscribeBook(c.market);
      } else if (c.phase === "orders") {
        this.feed.subscribedOrders.add(c.market);
        markStage(this.c, c, "orders_subscribed", at, { via: "30003 already subscribed" });
        this.toPreflight(c);
      }
      return;
    }
    if (c.phase === "book") {
      this.fail(c.id, rateLimited ? "message_rate_limited" : "book_subscribe_rejected", evidence);
    } else if (c.phase === "orders") {
      const auth = code === 20013 || /invalid auth|deadline/i.test(message);
      const diagnosis = auth
        ? "auth_rejected"
        : code === 20001
          ? "auth_missing"
          : rateLimited
            ? "message_rate_limited"
            : "orders_subscribe_rejected";
      this.fail(c.id, diagnosis, evidence, "orders_subscribed");
      // Say whether the key is even registered: the commonest cause of a refused token.
      if (auth && this.c.key) this.c.spawn(this.annotateKeyCheck(c.id));
    } else if (code === 23003) {
      c.evidence.connection_limit = evidence;
      writeCheck(this.c.sql, c);
    }
  }

  private async annotateKeyCheck(checkId: string): Promise<void> {
    let verdict: string;
    try {
      verdict = (await checkApiKey(this.c, this.c.rest())).matches
        ? "registered key matches"
        : "registered key DIFFERS from the configured private key";
    } catch (err) {
      verdict = `could not check apikeys: ${errorMessage(err)}`;
    }
    const c = readCheck(this.c.sql, checkId);
    if (!c) return;
    c.evidence.api_key_check = verdict;
    writeCheck(this.c.sql, c);
  }

  onClosed(code: number, reason: string, at: number): void {
    const c = runningCheck(this.c);
    if (!c) {
      if (this.c.cfg?.mode === "continuous") this.scheduleReconnect();
      return;
    }
    if (SESSION_PHASES.has(c.phase)) {
      // Diagnosed at the stage the check was in when the socket dropped.
      const stage = PHASES[c.phase as Phase].stage;
      return this.fail(c.id, "connection_closed", { close_code: code, close_reason: reason, at_phase: c.phase }, stage);
    }
    // Pre-flight or order path: reconnect so the fill can still be seen; REST covers the gap.
    this.feed.reconnects++;
    if (!c.reasons.includes("reconnect_needed")) c.reasons.push("reconnect_needed");
    c.evidence.reconnect = { close_code: code, close_reason: reason, at };
    writeCheck(this.c.sql, c);
    this.c.spawn(this.resubscribe(c.id));
  }

  async resubscribe(checkId: string): Promise<void> {
    const res = await this.feed.ensureOpen(checkId);
    const c = runningCheckNamed(this.c, checkId);
    if (!res.ok || !c) return;
    this.feed.subscribeBook(c.market);
    if (this.c.key) this.feed.subscribeOrders(c.market);
  }

  scheduleReconnect(): void {
    const attempt = Number(getMeta(this.c.sql, "reconnect_attempt") ?? "0");
    const base = Math.min(this.c.scale(60_000), this.c.scale(1_000) * 2 ** attempt);
    setMeta(this.c.sql, "reconnect_attempt", String(attempt + 1));
    this.c.setDeadline("reconnect", this.c.now() + Math.round(base / 2 + Math.random() * (base / 2)));
  }

  async reconnectContinuous(): Promise<void> {
    this.feed.reconnects++;
    const res = await this.feed.ensureOpen(null);
    if (!res.ok) return this.scheduleReconnect();
    setMeta(this.c.sql, "reconnect_attempt", "0");
    for (const m of this.c.cfg?.markets ?? []) {
      this.feed.subscribeBook(m);
      if (this.c.key) this.feed.subscribeOrders(m);
    }
  }
}
