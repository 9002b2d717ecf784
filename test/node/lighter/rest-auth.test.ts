/**
 * LighterRestClient sends the auth token only in the Authorization header: a real local HTTP server
 * (port 0) records every request, and no request URL carries the token (nor an `auth` parameter).
 */
import { createServer, type IncomingMessage } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LighterRestClient } from "../../../worker/lighter/rest.ts";

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

const token = `1767225600:12345:3:${"ab".repeat(80)}`;
const seen: Seen[] = [];
const server = createServer((req: IncomingMessage, res) => {
  let body = "";
  req.on("data", (c: Buffer) => (body += c.toString()));
  req.on("end", () => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization, body });
    res.setHeader("content-type", "application/json");
    const path = (req.url ?? "").split("?")[0];
    if (path === "/api/v1/nextNonce") return res.end('{"code":200,"nonce":7}');
    if (path === "/api/v1/accountInactiveOrders") return res.end('{"code":200,"orders":[],"next_cursor":""}');
    if (path === "/api/v1/account") return res.end('{"code":200,"accounts":[{"account_index":12345,"positions":[]}]}');
    res.end('{"code":200,"orders":[]}');
  });
});
let rest: LighterRestClient;

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  rest = new LighterRestClient({ baseUrl: `http://127.0.0.1:${port}/`, authToken: () => token });
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("REST auth", () => {
  it("authenticated endpoints carry the token in the Authorization header and never in a URL", async () => {
    await rest.accountActiveOrders(12345n, 0);
    await rest.accountInactiveOrders(12345n, { limit: 5, marketId: 0, cursor: "c1" });
    await rest.accountOrders(12345n, [1n, 2n]);
    await rest.nextNonce(12345n, 3);
    await rest.account(12345n);
    await rest.sendTx(14, '{"Nonce":7}');
    expect(seen.length).toBe(6);
    const authed = seen.filter((s) => /account(Active|Inactive)?Orders/.test(s.url));
    expect(authed).toHaveLength(3);
    for (const s of authed) expect(s.authorization, s.url).toBe(token);
    for (const s of seen) {
      const url = decodeURIComponent(s.url);
      expect(url, s.url).not.toContain(token);
      expect(url, s.url).not.toContain("ab".repeat(80));
      expect(new URL(s.url, "http://x").searchParams.has("auth"), s.url).toBe(false);
      expect(new URL(s.url, "http://x").searchParams.has("authorization"), s.url).toBe(false);
      expect(s.body).not.toContain(token);
    }
    // Unauthenticated endpoints send no token at all.
    for (const s of seen.filter((x) => !authed.includes(x))) expect(s.authorization, s.url).toBeUndefined();
  });
});
