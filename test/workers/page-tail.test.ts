/**
 * GET /logs/stream inside workerd: the Worker authenticates (subprotocols `fillwatch.v1,
 * bearer.<token>` or the session cookie) and forwards the upgrade to the monitor's object, which
 * accepts it with the Hibernation API. The socket survives an eviction that hibernates it, and the
 * next check's events arrive on it; filters and session expiry travel in the socket's attachment.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createSession } from "../../worker/page/session.ts";
import { API_TOKEN, api, monitorFor, monitorStatus, waitFor, waitForVerdict } from "./helpers.ts";

interface TailMsg {
  type: string;
  event?: string;
  check_id?: string | null;
  level?: string;
  data?: Record<string, unknown>;
}

function stream(query: string, headers: Record<string, string>): Promise<Response> {
  return exports.default.fetch(`http://fillwatch.test/logs/stream?${query}`, {
    headers: { Upgrade: "websocket", ...headers },
  });
}

async function openTail(query: string, headers: Record<string, string>) {
  const res = await stream(query, headers);
  if (res.status !== 101) throw new Error(`tail answered ${res.status}: ${await res.text()}`);
  expect(res.headers.get("Sec-WebSocket-Protocol")).toBe("fillwatch.v1");
  const ws = res.webSocket!;
  const msgs: TailMsg[] = [];
  const texts: string[] = [];
  const closed: { code: number | null } = { code: null };
  ws.addEventListener("message", (e) => {
    const text = typeof e.data === "string" ? e.data : "";
    texts.push(text);
    if (text.startsWith("{")) msgs.push(JSON.parse(text) as TailMsg);
  });
  ws.addEventListener("close", (e) => {
    closed.code = e.code;
  });
  ws.accept();
  await waitFor("hello", async () => msgs.find((m) => m.type === "hello"));
  return { ws, msgs, texts, closed };
}

const bearer = { "Sec-WebSocket-Protocol": `fillwatch.v1, bearer.${API_TOKEN}` };

async function runCheck(monitorId: string): Promise<string> {
  const res = await api(`/checks/run?monitor=${encodeURIComponent(monitorId)}`, { method: "POST" });
  expect(res.status, await res.clone().text()).toBe(202);
  return ((await res.json()) as { check_id: string }).check_id;
}

describe("live tail (GET /logs/stream)", () => {
  it("refuses a missing subprotocol, a wrong token, no credentials and a plain GET", async () => {
    const q = `monitor=${encodeURIComponent(monitorFor("page_tail").id)}`;
    expect((await stream(q, { "Sec-WebSocket-Protocol": `bearer.${API_TOKEN}` })).status).toBe(400);
    const wrong = await stream(q, { "Sec-WebSocket-Protocol": "fillwatch.v1, bearer.wrong-token-000000000" });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain("wrong-token");
    expect((await stream(q, { "Sec-WebSocket-Protocol": "fillwatch.v1" })).status).toBe(401);
    const plain = await exports.default.fetch(`http://fillwatch.test/logs/stream?${q}`, {
      headers: { Authorization: `Bearer ${API_TOKEN}` },
    });
    expect(plain.status).toBe(426);
    // A session cookie from another site's page is refused (no cross-site WebSocket hijacking).
    const cookie = `fillwatch_session=${await createSession(API_TOKEN, Date.now())}`;
    const cross = await stream(q, {
      "Sec-WebSocket-Protocol": "fillwatch.v1",
      Cookie: cookie,
      Origin: "https://evil.example",
    });
    expect(cross.status).toBe(403);
  });

  it("survives hibernation: after the idle object is evicted, the next check's events arrive", async () => {
    const m = monitorFor("page_tail");
    const q = `monitor=${encodeURIComponent(m.id)}`;
    // One check first, so the object knows its monitor; then wait until it is idle.
    await waitForVerdict(m.id, await runCheck(m.id));
    const all = await openTail(q, bearer);
    const verdictsOnly = await openTail(`${q}&event=check.verdict`, bearer);
    const warnings = await openTail(`${q}&level=error`, bearer);
    await waitFor("idle object", async () => {
      const s = (await monitorStatus(m.id)) as { session: { state: string }; last_check: { state: string } | null };
      return s.session.state === "closed" && s.last_check?.state === "done";
    });
    const stub = env.FILL_MONITOR.get(env.FILL_MONITOR.idFromName(m.id));
    await runInDurableObject(stub, (instance: object) => {
      (instance as { marker?: number }).marker = 1;
    });
    await evictDurableObject(stub, { webSockets: "hibernate" });

    // While hibernated, "ping" is answered by the runtime.
    all.ws.send("ping");
    await waitFor("pong", async () => all.texts.includes("pong"));

    const id = await runCheck(m.id);
    const v = await waitForVerdict(m.id, id);
    expect(v.verdict).toBe("pass");
    const verdict = await waitFor("check.verdict on the tail", async () =>
      all.msgs.find((e) => e.type === "event" && e.event === "check.verdict" && e.check_id === id),
    );
    expect(verdict.data?.verdict).toBe("pass");
    const mine = all.msgs.filter((e) => e.check_id === id).map((e) => e.event);
    expect(mine).toContain("check.started");
    expect(mine.length).toBeGreaterThan(3);

    // Filters came back from the attachment after the eviction.
    await waitFor("filtered verdict", async () => verdictsOnly.msgs.find((e) => e.check_id === id));
    expect(new Set(verdictsOnly.msgs.filter((e) => e.type === "event").map((e) => e.event))).toEqual(
      new Set(["check.verdict"]),
    );
    expect(warnings.msgs.filter((e) => e.type === "event" && e.level !== "error")).toEqual([]);

    // It really was a new instance, still holding the three accepted sockets.
    await runInDurableObject(stub, (instance: object, state) => {
      expect((instance as { marker?: number }).marker).toBeUndefined();
      expect(state.getWebSockets("tail")).toHaveLength(3);
    });
    for (const t of [all, verdictsOnly, warnings]) t.ws.close(1000, "done");
  });

  it("a cookie tail closes with 4001 once its session expires", async () => {
    const m = monitorFor("page_tail");
    const q = `monitor=${encodeURIComponent(m.id)}`;
    const cookie = `fillwatch_session=${await createSession(API_TOKEN, Date.now(), 1500)}`;
    const t = await openTail(q, { "Sec-WebSocket-Protocol": "fillwatch.v1", Cookie: cookie });
    // An event before expiry is delivered.
    await api(`/pause?${q}`, { method: "POST" });
    await waitFor("monitor.paused", async () => t.msgs.find((e) => e.event === "monitor.paused"));
    await new Promise((r) => setTimeout(r, 1600));
    await api(`/resume?${q}`, { method: "POST" });
    await waitFor("close 4001", async () => t.closed.code === 4001);
    expect(t.msgs.find((e) => e.event === "monitor.resumed")).toBeUndefined();
  });
});
