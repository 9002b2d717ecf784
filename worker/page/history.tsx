/**
 * The status page's history pieces (hono/jsx, server-rendered): relative times with the exact time
 * on hover, uptime over 24 h / 7 d / 30 d with skipped checks shown apart and a per-stage table,
 * and the incident history (open and resolved, with times, duration, diagnosis and action).
 */
import type { IncidentRecord } from "../views/incidents.ts";
import type { Uptime, UptimeWindowName } from "../views/uptime.ts";
import { STAGES } from "../monitor/diagnosis.ts";
import { humanMs } from "./charts.ts";
import { ago, iso } from "./time.ts";

/** A time as "3 min ago", exact on hover; the page's script keeps it current. */
export function Ago(props: { ms: number | null | undefined; now: number }) {
  if (typeof props.ms !== "number" || !Number.isFinite(props.ms)) return <span>–</span>;
  const exact = iso(props.ms);
  return (
    <time datetime={exact} title={exact} data-ts={String(props.ms)}>
      {ago(props.ms, props.now)}
    </time>
  );
}

/** "99.2%", "75%", "99.9%" for anything short of 100 (never rounded up to 100), or "–". */
export function percent(ratio: number | null): string {
  if (ratio === null) return "–";
  const p = ratio * 100;
  if (p < 100 && p >= 99.95) return "99.9%";
  return `${p.toFixed(1).replace(/\.0$/, "")}%`;
}

const WINDOWS: [UptimeWindowName, string][] = [
  ["24h", "24 h"],
  ["7d", "7 d"],
  ["30d", "30 d"],
];

function level(ratio: number | null): string {
  if (ratio === null) return "none";
  return ratio >= 0.99 ? "good" : ratio >= 0.9 ? "warn" : "bad";
}

export function UptimeBlock(props: { uptime: Uptime | null }) {
  const u = props.uptime;
  if (!u) return <p class="empty">Uptime unavailable.</p>;
  return (
    <div class="uptime">
      <dl class="uptime-windows">
        {WINDOWS.map(([key, label]) => {
          const w = u[key];
          return (
            <div data-uptime={key} class={`u-${level(w.ratio)}`}>
              <dt>{label}</dt>
              <dd data-ratio={w.ratio === null ? "" : String(w.ratio)}>{percent(w.ratio)}</dd>
              <dd class="meta">
                {w.up + w.down} check{w.up + w.down === 1 ? "" : "s"}
                {w.down ? ` · ${w.down} down` : ""}
                {w.skipped ? ` · ${w.skipped} skipped` : ""}
              </dd>
            </div>
          );
        })}
      </dl>
      <details class="stages">
        <summary>per stage</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">stage</th>
              {WINDOWS.map(([, label]) => (
                <th scope="col">{label}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {STAGES.map((s) => (
              <tr data-stage-uptime={s}>
                <th scope="row">{s}</th>
                {WINDOWS.map(([key]) => {
                  const x = u[key].stages[s];
                  return (
                    <td title={`${x.up} up, ${x.down} down`} class={`u-${level(x.ratio)}`}>
                      {percent(x.ratio)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      <p class="legend">
        Up: the check detected the fill (pass or degraded); skipped checks are counted apart. Whole clock hours: 24 h is
        this hour and the 23 before it.
      </p>
    </div>
  );
}

export function IncidentHistory(props: { incidents: IncidentRecord[]; now: number }) {
  if (props.incidents.length === 0) return <p class="empty">No incident so far.</p>;
  return (
    <ol class="incidents" data-incident-history>
      {props.incidents.map((i) => (
        <li data-incident-id={i.id} data-state={i.state} class={`inc-${i.state}`}>
          <div class="inc-head">
            <span class="pill">{i.state}</span>
            <strong>{i.diagnosis ?? "failing"}</strong>
            {i.stage ? <span class="meta"> at {i.stage}</span> : null}
            <span class="meta"> · {i.kind}</span>
          </div>
          <div class="meta">
            opened <Ago ms={i.opened_at} now={props.now} />
            {i.resolved_at !== null ? (
              <>
                {" "}
                · resolved <Ago ms={i.resolved_at} now={props.now} />
              </>
            ) : (
              " · still open"
            )}{" "}
            · lasted <span data-duration>{humanMs(i.duration_ms)}</span> · {i.failures} failing check
            {i.failures === 1 ? "" : "s"}
            {i.earlier_diagnoses.length ? ` · earlier: ${i.earlier_diagnoses.join(", ")}` : ""}
          </div>
          {i.action ? (
            <div class="inc-action">
              <strong>Action:</strong> {i.action}
            </div>
          ) : null}
        </li>
      ))}
    </ol>
  );
}
