/**
 * The playground's alert target: a small HTTP receiver on 127.0.0.1 that takes fillwatch's generic
 * webhook deliveries, verifies their `x-fillwatch-signature` (HMAC-SHA256 of the body with the
 * playground's ALERT_PLAYGROUND_HMAC key, compared in constant time) and prints each one: a
 * headline, then the provider payload as indented JSON. A bad signature is printed and answered 401.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface AlertReceiver {
  /** Where the webhook target points: http://127.0.0.1:<port>/alerts */
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

/** True when `header` is `sha256=<hex>` of the body under `key`. */
export function signatureValid(key: string, body: string, header: string | undefined): boolean {
  const m = /^sha256=([0-9a-f]{64})$/.exec(header ?? "");
  if (!m) return false;
  const expected = createHmac("sha256", key).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(m[1]!, "hex"));
}

export function startAlertReceiver(opts: {
  port: number;
  hmacKey: string;
  print: (text: string) => void;
}): Promise<AlertReceiver> {
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      if (req.method !== "POST") {
        res.writeHead(405, { Allow: "POST" }).end();
        return;
      }
      const ok = signatureValid(opts.hmacKey, body, req.headers["x-fillwatch-signature"] as string | undefined);
      let payload: unknown = body;
      try {
        payload = JSON.parse(body);
      } catch {
        // not JSON: printed as text
      }
      const p = (payload && typeof payload === "object" ? payload : {}) as Record<string, unknown>;
      const head = `[alert] ${String(p.kind ?? "?")} · ${String(p.title ?? "(no title)")} · HMAC ${ok ? "verified" : "INVALID"}`;
      const json = JSON.stringify(payload, null, 2)
        .split("\n")
        .map((l) => `[alert]   ${l}`)
        .join("\n");
      opts.print(`${head}\n${json}`);
      res.writeHead(ok ? 200 : 401, { "content-type": "application/json" }).end(JSON.stringify({ ok }));
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/alerts`,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}
