/**
 * Bearer-token check for protected routes. Both tokens are digested with SHA-256 and the digests
 * compared in constant time, so neither the token's length nor its content leaks through timing.
 * No API_TOKEN configured → 503 "API_TOKEN not configured": the API is never open by default.
 */
import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { secretReader } from "../secrets.ts";

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Constant-time equality of two strings via their SHA-256 digests. */
export async function tokensEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  const subtle = crypto.subtle as SubtleCrypto & {
    timingSafeEqual?: (x: ArrayBufferView, y: ArrayBufferView) => boolean;
  };
  if (typeof subtle.timingSafeEqual === "function") return subtle.timingSafeEqual(a, b);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

export function requireBearer(): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const expected = secretReader(c.env)("API_TOKEN") ?? "";
    if (expected === "") {
      throw new HTTPException(503, {
        message: "API_TOKEN not configured: set it with `wrangler secret put API_TOKEN`",
      });
    }
    const header = c.req.header("Authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match || !(await tokensEqual(match[1] ?? "", expected))) {
      c.header("WWW-Authenticate", 'Bearer realm="fillwatch"');
      throw new HTTPException(401, { message: "missing or invalid bearer token" });
    }
    await next();
  };
}
