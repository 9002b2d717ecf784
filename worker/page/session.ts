/**
 * Browser sessions for the status page: an HMAC-signed cookie (keyed by API_TOKEN, never holding
 * it) with an expiry, its per-session CSRF token (an HMAC of the session nonce), and the auth rule
 * that accepts either the bearer token or such a cookie (state-changing requests by cookie must
 * also carry the CSRF token in X-CSRF-Token). All comparisons are constant-time.
 */
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { requireBearer, tokensEqual } from "../api/auth.ts";
import { secretReader } from "../secrets.ts";

export const SESSION_COOKIE = "fillwatch_session";
export const CSRF_HEADER = "X-CSRF-Token";
/** A session lasts 12 hours; signing in again starts a new one. */
export const SESSION_TTL_MS = 12 * 3600_000;

export interface Session {
  nonce: string;
  expiresAt: number;
}

const enc = new TextEncoder();

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function hmac(apiToken: string, label: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(`fillwatch.${label}.v1:${apiToken}`),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return b64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(text))));
}

/** A new signed session value `v1.<expiresAt>.<nonce>.<mac>` for the cookie. */
export async function createSession(apiToken: string, now: number, ttlMs = SESSION_TTL_MS): Promise<string> {
  const nonce = b64url(crypto.getRandomValues(new Uint8Array(18)));
  const body = `v1.${now + ttlMs}.${nonce}`;
  return `${body}.${await hmac(apiToken, "session", body)}`;
}

/** The session a cookie value stands for, or null if it is malformed, forged or expired. */
export async function verifySession(value: string, apiToken: string, now: number): Promise<Session | null> {
  const m = /^v1\.([0-9]{1,16})\.([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m || apiToken === "") return null;
  const body = `v1.${m[1]}.${m[2]}`;
  if (!(await tokensEqual(m[3]!, await hmac(apiToken, "session", body)))) return null;
  const expiresAt = Number(m[1]);
  if (!(expiresAt > now)) return null;
  return { nonce: m[2]!, expiresAt };
}

/** The CSRF token of a session: an HMAC of its nonce, so it cannot be derived without API_TOKEN. */
export function csrfToken(apiToken: string, s: Session): Promise<string> {
  return hmac(apiToken, "csrf", s.nonce);
}

export async function csrfValid(apiToken: string, s: Session, given: string | undefined): Promise<boolean> {
  if (!given) return false;
  return tokensEqual(given, await csrfToken(apiToken, s));
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export function apiToken(env: Env): string {
  return secretReader(env)("API_TOKEN") ?? "";
}

/** The valid session carried by the request's cookie, or null. */
export async function sessionOf(c: Context<{ Bindings: Env }>): Promise<Session | null> {
  const v = cookieValue(c.req.header("Cookie"), SESSION_COOKIE);
  if (!v) return null;
  return verifySession(v, apiToken(c.env), Date.now());
}

/** Plain http on a loopback host (the local playground): the only case without `Secure`. */
function insecureLocal(url: string): boolean {
  const u = new URL(url);
  return u.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname);
}

export function sessionCookie(url: string, value: string, maxAgeS: number): string {
  const secure = insecureLocal(url) ? "" : "; Secure";
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeS}; HttpOnly${secure}; SameSite=Strict`;
}

export function clearedSessionCookie(url: string): string {
  return sessionCookie(url, "", 0);
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The bearer token (Authorization header), or a valid session cookie; by cookie, a request that
 * changes state needs the session's CSRF token in X-CSRF-Token. Otherwise the bearer check's 401.
 */
export function requireBearerOrSession(): MiddlewareHandler<{ Bindings: Env }> {
  const bearer = requireBearer();
  return async (c, next) => {
    if (c.req.header("Authorization") === undefined) {
      const s = await sessionOf(c);
      if (s) {
        if (!SAFE_METHODS.has(c.req.method) && !(await csrfValid(apiToken(c.env), s, c.req.header(CSRF_HEADER))))
          throw new HTTPException(403, { message: `missing or invalid ${CSRF_HEADER} for a signed-in session` });
        return next();
      }
    }
    return bearer(c, next);
  };
}
