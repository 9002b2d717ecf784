/**
 * A real local HTTP receiver for alert deliveries (webhook, Slack, Discord, Telegram, PagerDuty
 * shapes all land here). Tests read what arrived with GET /_received?path=..., and can make a path
 * fail with POST /_fail {path, status, times} to exercise retries. A request to any path under
 * /hang/ is recorded and then never answered (an alert target that hangs), until the receiver closes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

interface Received {
  at: number;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface WebhookReceiver {
  url: string;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: Received[] = [];
  const failures = new Map<string, { status: number; times: number }>();
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const text = await readBody(req);
    if (url.pathname === "/_received") {
      const path = url.searchParams.get("path");
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify(received.filter((r) => path === null || r.path === path || r.path.startsWith(`${path}/`))),
      );
      return;
    }
    if (url.pathname === "/_fail") {
      const f = JSON.parse(text) as { path: string; status: number; times: number };
      failures.set(f.path, { status: f.status, times: f.times });
      res.end("{}");
      return;
    }
    if (url.pathname.startsWith("/hang/")) {
      received.push({ at: Date.now(), path: url.pathname, headers: {}, body: text });
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    const fail = failures.get(url.pathname);
    if (fail && fail.times > 0) {
      fail.times--;
      res.statusCode = fail.status;
      res.end("failing on purpose");
      return;
    }
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep text
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
    received.push({ at: Date.now(), path: url.pathname, headers, body });
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ ok: true, result: { message_id: received.length } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const r of hanging) r.destroy();
        server.close(() => resolve());
      }),
  };
}
