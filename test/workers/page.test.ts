/**
 * The status page inside workerd, against the simulator: sign-in sets an HttpOnly SameSite=Strict
 * session cookie that never holds the token; the cookie reads the dashboard and the API, but a
 * state-changing route by cookie needs the session's CSRF token; forged and expired sessions are
 * refused; sign-out clears the cookie. The public page and the SVG badge show verdicts of
 * public_status monitors only, never evidence.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createSession, csrfToken, verifySession } from "../../worker/page/session.ts";
import { API_TOKEN, addFault, api, clearFault, monitorFor, waitForVerdict } from "./helpers.ts";

const BASE = "http://fillwatch.test";

function raw(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(`${BASE}${path}`, { redirect: "manual", ...init });
}

/** What a browser sends with a form post or fetch from the page itself. */
const SAME_SITE = { Origin: BASE };

async function signIn(token = API_TOKEN): Promise<Response> {
  return raw("/signin", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...SAME_SITE },
    body: new URLSearchParams({ token }).toString(),
  });
}

function cookieOf(res: Response): string {
  const set = res.headers.get("Set-Cookie") ?? "";
  return set.split(";")[0]!;
}

async function runCheck(monitorId: string): Promise<string> {
  const res = await api(`/checks/run?monitor=${encodeURIComponent(monitorId)}`, { method: "POST" });
  expect(res.status, await res.clone().text()).toBe(202);
  return ((await res.json()) as { check_id: string }).check_id;
}

describe("sign-in and the session cookie", () => {
  it("GET / without credentials is the sign-in form (HTML), not a JSON 401", async () => {
    const res = await raw("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('action="/signin"');
    expect(html).toContain('type="password"');
  });

  it("a wrong token is refused with the form again and no cookie", async () => {
    const res = await signIn("not-the-token-at-all");
    expect(res.status).toBe(401);
    expect(res.headers.get("Set-Cookie")).toBeNull();
    expect(await res.text()).toContain("not right");
  });

  it("the right token sets an HttpOnly, Secure, SameSite=Strict signed session that does not contain it", async () => {
    const res = await signIn();
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/");
    const set = res.headers.get("Set-Cookie")!;
    // Hono's signed cookie: the value, a dot, the HMAC-SHA256 signature (base64, URI-encoded).
    expect(set).toMatch(/^fillwatch_session=v1\.\d+\.[A-Za-z0-9_-]+\.[A-Za-z0-9%]{44,60};/);
    expect(set).toContain("HttpOnly");
    expect(set).toContain("Secure");
    expect(set).toContain("SameSite=Strict");
    expect(set).toMatch(/Max-Age=43200/);
    expect(set).not.toContain(API_TOKEN);
    const value = cookieOf(res).slice("fillwatch_session=".length);
    const s = await verifySession(value, API_TOKEN, Date.now());
    expect(s).not.toBeNull();
    expect(await verifySession(value, "another-api-token-000000", Date.now())).toBeNull();
  });

  it("plain http on loopback (the playground) gets a cookie without Secure", async () => {
    const res = await exports.default.fetch("http://127.0.0.1:8787/signin", {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin" },
      body: `token=${API_TOKEN}`,
    });
    expect(res.status).toBe(303);
    const set = res.headers.get("Set-Cookie")!;
    expect(set).toContain("HttpOnly");
    expect(set).toContain("SameSite=Strict");
    expect(set).not.toContain("Secure");
  });

  it("the cookie reads the dashboard and the API; sign-out clears it", async () => {
    const m = monitorFor("page");
    const cookie = cookieOf(await signIn());
    const page = await raw(`/?monitor=${encodeURIComponent(m.id)}`, { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`data-monitor="${m.id}"`);
    expect(html).toContain('name="csrf-token"');
    expect(html).toContain('action="/signout"');
    expect(html).not.toContain(API_TOKEN);
    const status = await raw(`/status?monitor=${encodeURIComponent(m.id)}`, { headers: { Cookie: cookie } });
    expect(status.status).toBe(200);

    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    // Sign-out without the CSRF token is refused; with it, the cookie is cleared.
    const refused = await raw("/signout", {
      method: "POST",
      headers: { Cookie: cookie, "content-type": "application/x-www-form-urlencoded", ...SAME_SITE },
      body: "csrf=wrong",
    });
    expect(refused.status).toBe(403);
    const out = await raw("/signout", {
      method: "POST",
      headers: { Cookie: cookie, "content-type": "application/x-www-form-urlencoded", ...SAME_SITE },
      body: new URLSearchParams({ csrf }).toString(),
    });
    expect(out.status).toBe(303);
    expect(out.headers.get("Set-Cookie")).toMatch(/^fillwatch_session=; Max-Age=0; Path=\/; HttpOnly/);
    // After sign-out the browser sends no cookie: the page is the sign-in form again.
    expect(await (await raw("/")).text()).toContain('action="/signin"');
  });

  it("an expired or forged session is refused everywhere", async () => {
    const m = monitorFor("page");
    const expired = await createSession(API_TOKEN, Date.now() - 13 * 3600_000);
    const forged = await createSession("someone-elses-token-000000", Date.now());
    for (const value of [expired, forged, "v1.99999999999999.AAAAAAAAAAAAAAAAAAAAAAAA.garbage"]) {
      const headers = { Cookie: `fillwatch_session=${value}` };
      expect((await raw(`/status?monitor=${encodeURIComponent(m.id)}`, { headers })).status).toBe(401);
      const page = await (await raw("/", { headers })).text();
      expect(page).toContain('action="/signin"');
      expect(page).not.toContain("data-monitor=");
    }
  });
});

describe("CSRF on state-changing routes by cookie", () => {
  it("POST /checks/run, /pause, /resume and /alerts/test need X-CSRF-Token with a cookie; the bearer token needs none", async () => {
    const m = monitorFor("page");
    const q = `?monitor=${encodeURIComponent(m.id)}`;
    const cookie = cookieOf(await signIn());
    const value = cookie.slice("fillwatch_session=".length);
    const session = (await verifySession(value, API_TOKEN, Date.now()))!;
    const csrf = await csrfToken(API_TOKEN, session);
    const other = await csrfToken(
      API_TOKEN,
      (await verifySession(cookieOf(await signIn()).split("=")[1]!, API_TOKEN, Date.now()))!,
    );
    expect(other).not.toBe(csrf);

    for (const path of ["/checks/run", "/pause", "/resume", "/alerts/test"]) {
      const none = await raw(`${path}${q}`, { method: "POST", headers: { Cookie: cookie } });
      expect(none.status, path).toBe(403);
      expect(((await none.json()) as { error: { message: string } }).error.message).toContain("X-CSRF-Token");
      // Another session's token is no good either.
      const wrong = await raw(`${path}${q}`, { method: "POST", headers: { Cookie: cookie, "X-CSRF-Token": other } });
      expect(wrong.status, path).toBe(403);
    }
    // The right token from another site (or from no site at all) is refused too (Hono's csrf check).
    for (const origin of [{ Origin: "https://evil.example" }, {}] as Record<string, string>[]) {
      const cross = await raw(`/pause${q}`, {
        method: "POST",
        headers: { Cookie: cookie, "X-CSRF-Token": csrf, ...origin },
      });
      expect(cross.status).toBe(403);
      expect(((await cross.json()) as { error: { message: string } }).error.message).toMatch(/^Origin: /);
    }
    // With the session's token, from this site, the routes act.
    const paused = await raw(`/pause${q}`, {
      method: "POST",
      headers: { Cookie: cookie, "X-CSRF-Token": csrf, ...SAME_SITE },
    });
    expect(paused.status).toBe(200);
    expect(((await paused.json()) as { paused: boolean }).paused).toBe(true);
    const resumed = await raw(`/resume${q}`, {
      method: "POST",
      headers: { Cookie: cookie, "X-CSRF-Token": csrf, "Sec-Fetch-Site": "same-origin" },
    });
    expect(resumed.status).toBe(200);
    expect(((await resumed.json()) as { paused: boolean }).paused).toBe(false);
    // The bearer token alone is enough (no cookie, no CSRF).
    const alert = await api(`/alerts/test${q}`, { method: "POST" });
    expect(alert.status).toBe(200);
  });
});

describe("security headers (Hono secureHeaders)", () => {
  it("the page has a strict CSP whose nonce is on its only style and script; the API and badge get the headers too", async () => {
    const cookie = cookieOf(await signIn());
    const res = await raw(`/?monitor=${encodeURIComponent(monitorFor("page").id)}`, { headers: { Cookie: cookie } });
    const csp = res.headers.get("Content-Security-Policy")!;
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)![1]!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`style-src 'nonce-${nonce}'`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    const html = await res.text();
    expect(html.match(/<script[ >]/g)).toHaveLength(1);
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toContain(`<style nonce="${nonce}">`);
    expect(html).not.toMatch(/ style="/);
    expect(res.headers.get("X-Frame-Options")).toBe("DENY");
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
    // A fresh nonce per answer.
    const again = await raw("/");
    expect(again.headers.get("Content-Security-Policy")).not.toContain(nonce);
    const api401 = await raw("/status");
    expect(api401.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(api401.headers.get("Cross-Origin-Resource-Policy")).toBe("same-origin");
  });
});

describe("public page and badge (public_status)", () => {
  it("show a public monitor's verdicts and timeline, with no evidence; private monitors are not shown", async () => {
    const pub = monitorFor("page_public");
    const priv = monitorFor("page");
    const fault = await addFault({ name: "reject_tx", code: 21120, account_index: pub.account_index });
    let failing: Awaited<ReturnType<typeof waitForVerdict>>;
    try {
      failing = await waitForVerdict(pub.id, await runCheck(pub.id));
    } finally {
      await clearFault(fault);
    }
    expect(failing.verdict).toBe("fail");
    expect(failing.diagnosis).toBe("tx_rejected");

    const badge = await raw(`/badge/${pub.id}.svg`);
    expect(badge.status).toBe(200);
    expect(badge.headers.get("Cross-Origin-Resource-Policy")).toBe("cross-origin");
    expect(badge.headers.get("content-type")).toMatch(/^image\/svg\+xml/);
    const svg = await badge.text();
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain(">fail</text>");
    expect((await raw(`/badge/${priv.id}.svg`)).status).toBe(404);
    expect((await raw("/badge/nope.svg")).status).toBe(404);

    for (const path of ["/public", "/"]) {
      const res = await raw(path);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html, path).toContain(pub.id);
      expect(html, path).toContain('data-verdict="fail"');
      expect(html, path).toMatch(/class="v-fail"/);
      expect(html, path).not.toContain(priv.id);
      // Verdicts only: no stage, diagnosis, action, order, tx hash or check id.
      for (const secret of [
        failing.diagnosis!,
        failing.first_failing_stage!,
        failing.action!.slice(0, 30),
        failing.id,
        "evidence",
        "client_order_index",
        "21120",
      ])
        expect(html, `${path} leaks ${secret}`).not.toContain(secret);
      expect(html, path).not.toMatch(/[0-9a-f]{80}/);
    }
    // The signed-in dashboard does show the diagnosis (so the public page's silence is a choice).
    const cookie = cookieOf(await signIn());
    const dash = await (await raw(`/?monitor=${encodeURIComponent(pub.id)}`, { headers: { Cookie: cookie } })).text();
    expect(dash).toContain("tx_rejected");
    expect(dash).toContain("order_accepted");
  });
});
