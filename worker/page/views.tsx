/**
 * The status page's documents (hono/jsx, server-rendered, no build step): the signed-in
 * dashboard (per monitor: verdict, open incident with its action, order lock, timeline, charts,
 * session health, live tail), the sign-in page, the public page (verdicts only) and the SVG badge.
 */
import type { Child } from "hono/jsx";
import { ACTIONS, type Diagnosis } from "../monitor/diagnosis.ts";
import { CLIENT_JS } from "./client.ts";
import { currentVerdict, type MonitorPage, type PublicMonitor } from "./data.ts";
import { Ago, IncidentHistory, UptimeBlock } from "./history.tsx";
import { Charts, Health, Timeline, iso, verdictOf } from "./parts.tsx";
import { Delivery } from "./delivery.tsx";
import { CSS } from "./style.ts";

/** Seconds between refreshes of a page read without JavaScript. */
export const REFRESH_S = 30;

/** `nonce`: the request's CSP nonce (secureHeaders): the only style and script the page may run. */
function Layout(props: { title: string; nonce: string; csrf?: string; script?: boolean; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        {props.csrf ? <meta name="csrf-token" content={props.csrf} /> : null}
        <title>{props.title}</title>
        <noscript>
          <meta http-equiv="refresh" content={String(REFRESH_S)} />
        </noscript>
        <style nonce={props.nonce} dangerouslySetInnerHTML={{ __html: CSS }} />
      </head>
      <body>
        {props.children}
        {props.script ? <script nonce={props.nonce} dangerouslySetInnerHTML={{ __html: CLIENT_JS }} /> : null}
      </body>
    </html>
  );
}

function VerdictLine(props: { verdict: string | null; running: boolean }) {
  const v = props.verdict ?? "none";
  return (
    <>
      <div class={`verdict v-${v}`} data-verdict={v}>
        {props.verdict ? props.verdict.toUpperCase() : "NO CHECK YET"}
      </div>
      {props.running ? <span class="pill">a check is running</span> : null}
    </>
  );
}

interface Incident {
  id: string;
  kind: string;
  opened_at: number;
  stage: string | null;
  diagnosis: string | null;
  failures: number;
}

function actionFor(d: string | null): string | null {
  return d && d in ACTIONS ? ACTIONS[d as Diagnosis] : null;
}

function MonitorCard(props: { m: MonitorPage; index: number; now: number }) {
  const { m } = props;
  const bodyId = `monitor-body-${props.index}`;
  const s = m.status;
  const last = m.checks[0];
  const incidents = (s?.incidents ?? []) as Incident[];
  const lock = s?.order_lock ?? null;
  return (
    <section class="monitor" data-monitor={m.id} data-body={bodyId} aria-label={`monitor ${m.id}`}>
      <div id={bodyId}>
        <h2>{m.id}</h2>
        <div class="meta">
          {m.network} · {m.mode} · market{m.markets.length > 1 ? "s" : ""} {m.markets.join(", ")}
          {m.pause?.paused ? (
            <>
              {" "}
              · <span class="pill">paused{m.pause.reason ? `: ${m.pause.reason}` : ""}</span>
            </>
          ) : null}
        </div>
        {m.error ? <p class="error-msg">monitor unreachable: {m.error}</p> : null}
        <VerdictLine verdict={currentVerdict(m.checks)} running={last !== undefined && verdictOf(last) === "running"} />
        {last && last.verdict && last.verdict !== "pass" ? (
          <p class="why">
            {last.first_failing_stage ? `failed at ${last.first_failing_stage}` : null}
            {last.diagnosis ? ` · ${last.diagnosis}` : null} · <Ago ms={last.started_at} now={props.now} />
          </p>
        ) : last ? (
          <p class="why meta">
            last check <Ago ms={last.started_at} now={props.now} />
          </p>
        ) : null}
        {incidents.map((i) => (
          <div class="alert" data-incident={i.id}>
            <p>
              <strong>Open incident</strong> ({i.kind}) since <Ago ms={i.opened_at} now={props.now} /> · {i.failures}{" "}
              failing check
              {i.failures === 1 ? "" : "s"}
              {i.stage ? ` · stage ${i.stage}` : ""}
              {i.diagnosis ? ` · ${i.diagnosis}` : ""}
            </p>
            {(actionFor(i.diagnosis) ?? (last?.action || null)) ? (
              <p data-action>
                <strong>Action:</strong> {actionFor(i.diagnosis) ?? last?.action}
              </p>
            ) : null}
          </div>
        ))}
        {lock ? (
          <div class="alert lock" data-order-lock>
            <p>
              <strong>Order lock:</strong> test order {String(lock.client_order_index)} of check {String(lock.check_id)}{" "}
              is unresolved; no new test order until it is
              {lock.waiting_for ? ` (waiting for ${String(lock.waiting_for)})` : ""}.
            </p>
          </div>
        ) : null}
        <h3>Uptime</h3>
        <UptimeBlock uptime={m.uptime} />
        <h3>Recent checks</h3>
        <Timeline checks={m.checks} />
        <h3>Incidents</h3>
        <IncidentHistory incidents={m.incidents} now={props.now} />
        <h3>Durations</h3>
        <Charts checks={m.checks} fill={s?.fill_latency_ms ?? null} />
        {s ? (
          <>
            <h3>Session health</h3>
            <Health status={s} now={props.now} />
            <Delivery status={s} now={props.now} />
          </>
        ) : null}
      </div>
      <div class="live" hidden>
        <div class="bar">
          <h3>Live events</h3>
          <span class="meta" data-live-state>
            connecting…
          </span>
          <button type="button" data-run={m.id} hidden>
            Run a check now
          </button>
          <span class="meta" data-run-result></span>
        </div>
        <ol aria-live="polite"></ol>
      </div>
    </section>
  );
}

export function Dashboard(props: {
  monitors: MonitorPage[];
  csrf: string;
  nonce: string;
  now: number;
  problems: string[];
}) {
  return (
    <Layout title="fillwatch" csrf={props.csrf} nonce={props.nonce} script>
      <header class="top">
        <h1>fillwatch</h1>
        <form method="post" action="/signout">
          <input type="hidden" name="csrf" value={props.csrf} />
          <button type="submit">Sign out</button>
        </form>
      </header>
      <main>
        {props.problems.map((p) => (
          <p class="error-msg">config: {p}</p>
        ))}
        {props.monitors.length === 0 ? <p>No monitor is configured (MONITORS).</p> : null}
        {props.monitors.map((m, i) => (
          <MonitorCard m={m} index={i} now={props.now} />
        ))}
      </main>
      <footer>
        updated <Ago ms={props.now} now={props.now} /> · refreshes live (or every {REFRESH_S} s without JavaScript)
      </footer>
    </Layout>
  );
}

function PublicCard(props: { m: PublicMonitor }) {
  const oldestFirst = [...props.m.checks].reverse();
  return (
    <section class="monitor public" aria-label={`monitor ${props.m.id}`}>
      <h2>{props.m.id}</h2>
      <VerdictLine verdict={props.m.verdict} running={false} />
      {oldestFirst.length === 0 ? (
        <p class="empty">No check has run yet.</p>
      ) : (
        <ol class="timeline" aria-label="Recent verdicts, oldest first">
          {oldestFirst.map((c) => (
            <li>
              <details class={`v-${c.verdict ?? "running"}`}>
                <summary title={`${iso(c.started_at)} ${c.verdict ?? "running"}`}></summary>
                <div class="pop">
                  {c.verdict ?? "running"} · {iso(c.started_at)}
                </div>
              </details>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** The sign-in form, with the public monitors (if any) above it. */
export function SignIn(props: { publicMonitors: PublicMonitor[]; error?: string; nonce: string }) {
  return (
    <Layout title="fillwatch: sign in" nonce={props.nonce}>
      <header class="top">
        <h1>fillwatch</h1>
      </header>
      <main>
        {props.publicMonitors.map((m) => (
          <PublicCard m={m} />
        ))}
        <form class="signin" method="post" action="/signin">
          <label for="token">API token</label>
          <input id="token" name="token" type="password" autocomplete="current-password" required />
          {props.error ? <p class="error-msg">{props.error}</p> : null}
          <button type="submit">Sign in</button>
          <p class="meta">The token is checked once; the browser keeps only a signed session cookie.</p>
        </form>
      </main>
    </Layout>
  );
}

export function PublicPage(props: { monitors: PublicMonitor[]; now: number; nonce: string }) {
  return (
    <Layout title="fillwatch status" nonce={props.nonce}>
      <header class="top">
        <h1>fillwatch status</h1>
        <a href="/">sign in</a>
      </header>
      <main>
        {props.monitors.length === 0 ? <p>No monitor has a public status.</p> : null}
        {props.monitors.map((m) => (
          <PublicCard m={m} />
        ))}
      </main>
      <footer>
        updated {iso(props.now)} · refreshes every {REFRESH_S} s
      </footer>
    </Layout>
  );
}

const BADGE_COLORS: Record<string, string> = {
  pass: "#1a7f37",
  degraded: "#9a6700",
  fail: "#cf222e",
  skipped: "#818b98",
};

function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** A shields-style SVG badge: "fillwatch | pass". */
export function badgeSvg(verdict: string | null): string {
  const label = "fillwatch";
  const value = verdict ?? "no data";
  const lw = 6 + label.length * 6.5;
  const vw = 10 + value.length * 6.5;
  const color = BADGE_COLORS[value] ?? "#818b98";
  const w = Math.round(lw + vw);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${xmlEscape(`${label}: ${value}`)}"><title>${xmlEscape(`${label}: ${value}`)}</title><rect width="${Math.round(lw)}" height="20" rx="3" fill="#555"/><rect x="${Math.round(lw)}" width="${Math.round(vw)}" height="20" rx="3" fill="${color}"/><g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11"><text x="${Math.round(lw / 2)}" y="14" text-anchor="middle">${label}</text><text x="${Math.round(lw + vw / 2)}" y="14" text-anchor="middle">${xmlEscape(value)}</text></g></svg>`;
}
