/**
 * Helpers for the bot-reconciliation workerd tests: post to POST /watch/{monitor}/seen through the
 * real Worker with the scenario's ingest token, and a test bot that reads the simulator's state
 * for the account (what a real bot learns from its own session), reports each order's cumulative
 * filled amount with seen_at, withholds the orders a rule picks, and heartbeats in between.
 */
import { exports } from "cloudflare:workers";
import { sim, type TestMonitor } from "./helpers.ts";

export function ingestToken(m: TestMonitor): string {
  return `ingest-token-${m.scenario}-0123456789`;
}

export async function postSeen(
  m: TestMonitor,
  body: string,
  opts: { token?: string | null; contentType?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers = new Headers(opts.headers);
  headers.set("content-type", opts.contentType ?? "application/json");
  const token = opts.token === undefined ? ingestToken(m) : opts.token;
  if (token !== null) headers.set("Authorization", `Bearer ${token}`);
  return exports.default.fetch(`http://fillwatch.test/watch/${encodeURIComponent(m.id)}/seen`, {
    method: "POST",
    headers,
    body,
  });
}

interface SimOrder {
  order_id: string;
  client_order_id: string;
  filled_base_amount: string;
  account_index: string | number;
}

export class TestBot {
  /** Order index → the amount last reported. */
  readonly reported = new Map<string, string>();
  readonly withheld = new Set<string>();
  private seen = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly m: TestMonitor;
  /** Whether to withhold the n-th filled order the bot sees (0-based). */
  withhold: (n: number, orderIndex: string) => boolean;
  heartbeats = 0;
  batches = 0;

  constructor(m: TestMonitor, withhold: (n: number, orderIndex: string) => boolean = () => false) {
    this.m = m;
    this.withhold = withhold;
  }

  async orders(): Promise<SimOrder[]> {
    const res = await sim(`/_sim/state?account_index=${this.m.account_index}`);
    const body = (await res.json()) as { orders: SimOrder[] };
    return body.orders.filter((o) => String(o.account_index) === String(this.m.account_index));
  }

  /** One round: report what changed (or send a heartbeat). */
  async tick(): Promise<void> {
    const now = Date.now();
    const reports: Record<string, unknown>[] = [];
    for (const o of await this.orders()) {
      if (!/[1-9]/.test(o.filled_base_amount)) continue;
      if (this.withheld.has(o.order_id)) continue;
      if (!this.reported.has(o.order_id) && this.withhold(this.seen++, o.order_id)) {
        this.withheld.add(o.order_id);
        continue;
      }
      if (this.reported.get(o.order_id) === o.filled_base_amount) continue;
      this.reported.set(o.order_id, o.filled_base_amount);
      reports.push({ order_index: o.order_id, filled_base: o.filled_base_amount, seen_at: now });
    }
    const res = await postSeen(this.m, JSON.stringify(reports));
    if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
    if (reports.length === 0) this.heartbeats++;
    else this.batches++;
  }

  start(everyMs = 250): void {
    const loop = async () => {
      try {
        await this.tick();
      } catch {
        // the next round retries
      }
      if (this.timer !== null) this.timer = setTimeout(loop, everyMs);
    };
    this.timer = setTimeout(loop, 0);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
