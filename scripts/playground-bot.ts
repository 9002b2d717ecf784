/**
 * The playground's reporting bot (`npm start -- --watch`): plays the part of the user's bot by
 * reading the simulator's orders for the watched account (what a bot learns from its own
 * session) and reporting every fill through fillwatch's own reporter (report/reporter.ts): the
 * order's cumulative filled amount with the time it saw it, batched, retried, with heartbeats.
 */
import { FillReporter } from "../report/reporter.ts";

interface SimOrder {
  order_id: string;
  filled_base_amount: string;
  account_index: string | number;
}

/** The ingest token the playground uses: the first WATCH_INGEST_TOKEN__* value in the env file. */
export function readIngestToken(text: string): string | null {
  const m = /^\s*WATCH_INGEST_TOKEN__[A-Z0-9_]+\s*=\s*"?([^"\n]*)"?\s*$/m.exec(text);
  return m?.[1] ? m[1] : null;
}

export function startPlaygroundBot(o: {
  simRest: string;
  account: string;
  fillwatch: string;
  monitor: string;
  token: string;
  stopped: () => boolean;
}): FillReporter {
  const reporter = new FillReporter({
    url: o.fillwatch,
    monitor: o.monitor,
    token: o.token,
    onError: (e) => {
      if (e.status !== null) console.error(`[bot] fillwatch answered ${e.status}: ${e.message}`);
    },
  });
  reporter.start();
  const reported = new Map<string, string>();
  const poll = async () => {
    if (o.stopped()) return void reporter.stop();
    try {
      const res = await fetch(`${o.simRest}/_sim/state?account_index=${o.account}`);
      const body = (await res.json()) as { orders: SimOrder[] };
      for (const order of body.orders) {
        if (String(order.account_index) !== o.account || !/[1-9]/.test(order.filled_base_amount)) continue;
        if (reported.get(order.order_id) === order.filled_base_amount) continue;
        reported.set(order.order_id, order.filled_base_amount);
        reporter.seen({ order_index: order.order_id, filled_base: order.filled_base_amount });
      }
    } catch {
      // the simulator is restarting or gone; the next poll retries
    }
    setTimeout(() => void poll(), 500).unref();
  };
  void poll();
  return reporter;
}
