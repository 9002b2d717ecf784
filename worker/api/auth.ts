/**
 * Bearer-token check for protected routes, with Hono's bearerAuth (its constant-time comparison:
 * both tokens are SHA-256 hashed and compared in constant time). Every failure is the API's 401
 * envelope with `WWW-Authenticate: Bearer realm="fillwatch"`. No API_TOKEN configured → 503
 * "API_TOKEN not configured": the API is never open by default. The same comparison serves the
 * sign-in form and the live tail's bearer subprotocol (tokensEqual).
 */
import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { HTTPException } from "hono/http-exception";
import { timingSafeEqual } from "hono/utils/buffer";
import { secretReader } from "../secrets.ts";

export const REALM = "fillwatch";
export const BEARER_401 = "missing or invalid bearer token";

/** Constant-time equality of two tokens (Hono's: SHA-256 digests, then the strings). */
export function tokensEqual(given: string, expected: string): Promise<boolean> {
  return timingSafeEqual(given, expected);
}

export function apiToken(env: Env): string {
  return secretReader(env)("API_TOKEN") ?? "";
}

function unauthorized(): Response {
  return new Response(JSON.stringify({ error: { status: 401, message: BEARER_401 } }), {
    status: 401,
    headers: { "content-type": "application/json", "WWW-Authenticate": `Bearer realm="${REALM}"` },
  });
}

const refusals = {
  noAuthenticationHeader: { message: unauthorized },
  invalidAuthenticationHeader: { message: unauthorized },
  invalidToken: { message: unauthorized },
};

export function requireBearer(): MiddlewareHandler<{ Bindings: Env }> {
  return async (c: Context<{ Bindings: Env }>, next) => {
    const token = apiToken(c.env);
    if (token === "")
      throw new HTTPException(503, {
        message: "API_TOKEN not configured: set it with `wrangler secret put API_TOKEN`",
      });
    return bearerAuth<{ Bindings: Env }>({ token, realm: REALM, ...refusals })(c, next);
  };
}
