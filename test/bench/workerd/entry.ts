/**
 * Bench-only Worker entry: the real Worker and a metered FillMonitor. The subclass counts, per
 * object, the requests Cloudflare bills (every RPC method call, alarm, fetch and WebSocket message),
 * the active time (the union of the intervals in which a handler runs — the session lives inside
 * the alarm handler, so this is the wall time the object cannot hibernate), and the rows read and
 * written by every SQL cursor (workerd's `rowsRead` / `rowsWritten`). The bench reads the meters at
 * GET /__bench/meters. Nothing of the product changes: the same class under a measuring coat.
 */
import worker, { FillMonitor } from "../../../worker/index.ts";

export { FillMonitor };

interface Meter {
  requests: Record<string, number>;
  inFlight: number;
  activeSince: number | null;
  activeMs: number;
  statements: number;
  writeStatements: number;
  cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[];
}

const meters = new Map<string, Meter>();
/** RPC calls the Worker made per scheduled invocation (the cron handler's fan-out). */
const invocations: { cron: string; ms: number }[] = [];

function meter(id: string): Meter {
  let m = meters.get(id);
  if (!m) {
    m = { requests: {}, inFlight: 0, activeSince: null, activeMs: 0, statements: 0, writeStatements: 0, cursors: [] };
    meters.set(id, m);
  }
  return m;
}

function enter(m: Meter, kind: string): void {
  m.requests[kind] = (m.requests[kind] ?? 0) + 1;
  if (m.inFlight++ === 0) m.activeSince = Date.now();
}

function leave(m: Meter): void {
  if (--m.inFlight === 0 && m.activeSince !== null) {
    m.activeMs += Date.now() - m.activeSince;
    m.activeSince = null;
  }
}

async function timed<T>(m: Meter, kind: string, run: () => Promise<T>): Promise<T> {
  enter(m, kind);
  try {
    return await run();
  } finally {
    leave(m);
  }
}

export class MeteredMonitor extends FillMonitor {
  private readonly meter: Meter;

  constructor(ctx: DurableObjectState, env: Env) {
    const m = meter(ctx.id.toString());
    const sql = ctx.storage.sql;
    const exec = sql.exec.bind(sql);
    Object.defineProperty(sql, "exec", {
      configurable: true,
      value: (query: string, ...bindings: unknown[]) => {
        const cursor = exec(query, ...(bindings as []));
        m.statements++;
        if (/^\s*(INSERT|UPDATE|DELETE|REPLACE)/i.test(query)) m.writeStatements++;
        m.cursors.push(cursor);
        return cursor;
      },
    });
    super(ctx, env);
    this.meter = m;
  }

  override async fetch(request: Request): Promise<Response> {
    return timed(this.meter, "fetch", () => super.fetch(request));
  }

  override async alarm(): Promise<void> {
    return timed(this.meter, "alarm", () => super.alarm());
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    return timed(this.meter, "websocket", () => super.webSocketMessage(ws, message));
  }
}

// Every RPC method call on a stub is a billed request: wrap each public async method (RPC methods
// are async; the class's synchronous helpers are not RPC and stay as they are).
for (const name of Object.getOwnPropertyNames(FillMonitor.prototype)) {
  if (["constructor", "fetch", "alarm", "webSocketMessage", "webSocketClose", "webSocketError"].includes(name))
    continue;
  const d = Object.getOwnPropertyDescriptor(FillMonitor.prototype, name);
  if (!d || typeof d.value !== "function" || (d.value as object).constructor.name !== "AsyncFunction") continue;
  const original = d.value as (...a: unknown[]) => unknown;
  Object.defineProperty(MeteredMonitor.prototype, name, {
    configurable: true,
    writable: true,
    value(this: MeteredMonitor & { ctx: DurableObjectState }, ...a: unknown[]) {
      const m = meter(this.ctx.id.toString());
      return timed(m, `rpc.${name}`, async () => original.apply(this, a));
    },
  });
}

function snapshot(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [id, m] of meters) {
    let rowsRead = 0;
    let rowsWritten = 0;
    for (const c of m.cursors) {
      rowsRead += c.rowsRead;
      rowsWritten += c.rowsWritten;
    }
    const activeMs = m.activeMs + (m.activeSince !== null ? Date.now() - m.activeSince : 0);
    out[id] = {
      requests: m.requests,
      activeMs,
      statements: m.statements,
      writeStatements: m.writeStatements,
      rowsRead,
      rowsWritten,
      inFlight: m.inFlight,
    };
  }
  return out;
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/meters") return Response.json({ objects: snapshot(), invocations });
    if (url.pathname === "/__bench/reset") {
      meters.clear();
      invocations.length = 0;
      return Response.json({ ok: true });
    }
    return worker.fetch(request, env, ctx);
  },
  async scheduled(controller, env, ctx) {
    const t0 = Date.now();
    const waits: Promise<unknown>[] = [];
    const inner: ExecutionContext = {
      waitUntil: (p: Promise<unknown>) => {
        waits.push(p);
        ctx.waitUntil(p);
      },
      passThroughOnException: () => ctx.passThroughOnException(),
      props: ctx.props,
    } as ExecutionContext;
    worker.scheduled(controller, env, inner);
    await Promise.allSettled(waits);
    invocations.push({ cron: controller.cron, ms: Date.now() - t0 });
  },
} satisfies ExportedHandler<Env>;
