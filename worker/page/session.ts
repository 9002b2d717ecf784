/**
 * Browser sessions for the status page, with Hono's signed cookies (hono/cookie: HMAC-SHA256,
 * verified with WebCrypto) keyed by a key derived from API_TOKEN, never holding it: the cookie is
 * `v1.<expiresAt>.<nonce>` plus its signature, valid 12 hours. Its CSRF token is an HMAC of the
 * nonce. A request by cookie that changes state passes Hono's csrf check (Origin or
 * Sec-Fetch-Site of this site) AND carries the session's CSRF token in X-CSRF-Token; the bearer
 * token needs neither (auth.ts).
 */
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, generateSignedCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { apiToken, requireBearer, tokensEqual } from "../api/auth.ts";

export { apiToken };

export const SESSION_COOKIE = "fillwatch_session";
export const CSRF_HEADER = "X-CSRF-Token";
/** A session lasts 12 hours; signing in again starts a new one. */
export const SESSION_TTL_MS = 12 * 3600_000;

export interface Session {
  nonce: string;
  expiresAt: number;
}

type C = Context<{ Bindings: Env }>;

const enc = new TextEncoder();

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The cookie-signing key: derived from API_TOKEN, so rotating the token ends every session. */
function cookieKey(token: string): string {
  return `fillwatch.session.v1:${token}`;
}

async function hmac(token: string, label: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(`fillwatch.${label}.v1:${token}`),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return b64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(text))));
}

const BODY_RE = /^v1\.([0-9]{1,16})\.([A-Za-z0-9_-]{16,64})$/;

function newBody(now: number, ttlMs: number): string {
  return `v1.${now + ttlMs}.${b64url(crypto.getRandomValues(new Uint8Array(18)))}`;
}

function parseBody(body: string | false | undefined, now: number): Session | null {
  const m = typeof body === "string" ? BODY_RE.exec(body) : null;
  if (!m) return null;
  const expiresAt = Number(m[1]);
  return expiresAt > now ? { nonce: m[2]!, expiresAt } : null;
}

/** A new signed session: the cookie's value as a browser sends it back (for tests and tools). */
export async function createSession(token: string, now: number, ttlMs = SESSION_TTL_MS): Promise<string> {
  const set = await generateSignedCookie(SESSION_COOKIE, newBody(now, ttlMs), cookieKey(token));
  return set.slice(SESSION_COOKIE.length + 1).split(";")[0]!;
}

/** The session a cookie value stands for, or null if it is malformed, forged or expired. */
export async function verifySession(value: string, token: string, now: number): Promise<Session | null> {
  if (token === "") return null;
  const fake = { req: { raw: new Request("http://x/", { headers: { Cookie: `${SESSION_COOKIE}=${value}` } }) } };
  return parseBody(await getSignedCookie(fake as unknown as C, cookieKey(token), SESSION_COOKIE), now);
}

/** The CSRF token of a session: an HMAC of its nonce, so it cannot be derived without API_TOKEN. */
export function csrfToken(token: string, s: Session): Promise<string> {
  return hmac(token, "csrf", s.nonce);
}

export async function csrfValid(token: string, s: Session, given: string | undefined): Promise<boolean> {
  if (!given) return false;
  return tokensEqual(given, await csrfToken(token, s));
}

/** The valid session carried by the request's cookie, or null. */
export async function sessionOf(c: C): Promise<Session | null> {
  const token = apiToken(c.env);
  if (token === "") return null;
  return parseBody(await getSignedCookie(c, cookieKey(token), SESSION_COOKIE), Date.now());
}

/** Plain http on a loopback host (the local playground): the only case without `Secure`. */
function insecureLocal(url: string): boolean {
  const u = new URL(url);
  return u.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname);
}

const cookieOptions = (c: C) =>
  ({ path: "/", httpOnly: true, secure: !insecureLocal(c.req.url), sameSite: "Strict" }) as const;

/** Signs in: sets the session cookie on the response being built. */
export async function startSession(c: C, token: string): Promise<void> {
  await setSignedCookie(c, SESSION_COOKIE, newBody(Date.now(), SESSION_TTL_MS), cookieKey(token), {
    ...cookieOptions(c),
    maxAge: SESSION_TTL_MS / 1000,
  });
}

export function endSession(c: C): void {
  deleteCookie(c, SESSION_COOKIE, cookieOptions(c));
}

const originCheck = csrf();

/**
 * Hono's CSRF origin check: an unsafe request must come from this site (Origin or Sec-Fetch-Site);
 * a refusal is the API's 403 envelope.
 */
export const sameSite: MiddlewareHandler = async (c, next) => {
  try {
    await originCheck(c, async () => undefined);
  } catch (err) {
    if (err instanceof HTTPException && err.status === 403)
      throw new HTTPException(403, { message: "Origin: a state change by session cookie must come from this site" });
    throw err;
  }
  await next();
};

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The bearer token (Authorization header), or a valid session cookie; by cookie, a request that
 * changes state must come from this site (Hono csrf) and carry the session's CSRF token in
 * X-CSRF-Token. Otherwise the bearer check's 401.
 */
export function requireBearerOrSession(): MiddlewareHandler<{ Bindings: Env }> {
  const bearer = requireBearer();
  return async (c, next) => {
    if (c.req.header("Authorization") === undefined) {
      const s = await sessionOf(c);
      if (s) {
        if (SAFE_METHODS.has(c.req.method)) return next();
        if (!(await csrfValid(apiToken(c.env), s, c.req.header(CSRF_HEADER))))
          throw new HTTPException(403, { message: `missing or invalid ${CSRF_HEADER} for a signed-in session` });
        return sameSite(c, next);
      }
    }
    return bearer(c, next);
  };
}
