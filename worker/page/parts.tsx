/**
 * Pieces of a monitor's card on the status page (hono/jsx, server-rendered): the timeline of
 * recent checks coloured by verdict (details on hover and tap), the p50/p95 charts as inline SVG,
 * and the session health. No JavaScript needed to read any of it.
 */
import type { StatusView } from "../views/status.ts";
import type { CheckRecord } from "../views/checks.ts";
import { STAGES } from "../monitor/diagnosis.ts";
import { FILL_LATENCY_DEFINITION, type FillLatencySummary } from "../views/latency.ts";
import { humanMs, percentileSeries, scaleSeries, type Sample } from "./charts.ts";
import { iso } from "./time.ts";

export { iso };

/** The fill-latency figures of /status, as the chart caption and session health both show them. */
export function fillLatencyText(f: FillLatencySummary | null): string {
  if (!f || f.samples === 0) return "no data";
  return `p50 ${humanMs(f.p50)} · p95 ${humanMs(f.p95)} · p99 ${humanMs(f.p99)} (${f.samples} check${f.samples === 1 ? "" : "s"})`;
}

/** "12:04:31 UTC": the time of day a check started. */
function clock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)} UTC`;
}

export function verdictOf(c: { verdict: string | null; state?: string }): string {
  if (c.state === "running" || c.state === "flattening") return c.verdict ?? "running";
  return c.verdict ?? "running";
}

function describeCheck(c: CheckRecord): string {
  const parts = [`${iso(c.started_at)}  ${verdictOf(c)}`];
  if (c.first_failing_stage) parts.push(`stage: ${c.first_failing_stage}`);
  if (c.diagnosis) parts.push(`diagnosis: ${c.diagnosis}`);
  if (c.fill_latency_ms !== null) parts.push(`fill latency: ${humanMs(c.fill_latency_ms)}`);
  return parts.join(" · ");
}

/** Recent checks, oldest left; each cell opens its stage and diagnosis (title on hover, details on tap). */
export function Timeline(props: { checks: CheckRecord[] }) {
  const oldestFirst = [...props.checks].reverse();
  if (oldestFirst.length === 0) return <p class="empty">No check has run yet.</p>;
  return (
    <div>
      <ol class="timeline" aria-label="Recent checks, oldest first">
        {oldestFirst.map((c) => (
          <li>
            <details class={`v-${verdictOf(c)}`} data-check={c.id} data-verdict={verdictOf(c)}>
              <summary title={describeCheck(c)} aria-label={describeCheck(c)}></summary>
              <div class="pop">
                <strong>{verdictOf(c)}</strong> · {clock(c.started_at)}
                <br />
                check {c.id} ({c.trigger ?? "cron"})
                {c.first_failing_stage ? (
                  <>
                    <br />
                    failing stage: <strong>{c.first_failing_stage}</strong>
                  </>
                ) : null}
                {c.diagnosis ? (
                  <>
                    <br />
                    diagnosis: <strong>{c.diagnosis}</strong>
                  </>
                ) : null}
                {c.fill_latency_ms !== null ? (
                  <>
                    <br />
                    fill latency: {humanMs(c.fill_latency_ms)}
                  </>
                ) : null}
                {c.action ? (
                  <>
                    <br />
                    action: {c.action}
                  </>
                ) : null}
              </div>
            </details>
          </li>
        ))}
      </ol>
      <div class="legend">
        oldest left · {oldestFirst.length} checks
        <span class="sw v-pass"></span>pass<span class="sw v-degraded"></span>degraded
        <span class="sw v-fail"></span>fail<span class="sw v-skipped"></span>skipped
      </div>
    </div>
  );
}

/** viewBox sizes, close to the rendered pixel width so the labels stay legible. */
const W = 200;
const H_SMALL = 70;
const WIDE_W = 800;
const WIDE_H = 120;

/** One p50/p95 chart of a duration over time (inline SVG). */
export function Chart(props: { title: string; samples: Sample[]; wide?: boolean; name: string; caption?: string }) {
  const points = percentileSeries(props.samples, props.wide ? 20 : 12);
  const w = props.wide ? WIDE_W : W;
  const H = props.wide ? WIDE_H : H_SMALL;
  const last = points[points.length - 1];
  return (
    <figure class={props.wide ? "chart wide" : "chart"} data-chart={props.name}>
      <figcaption>
        <span>{props.title}</span>
        <span data-figures>
          {props.caption ?? (last ? `last: p50 ${humanMs(last.p50)} · p95 ${humanMs(last.p95)}` : "no data")}
        </span>
      </figcaption>
      {points.length === 0 ? (
        <p class="empty">No samples yet.</p>
      ) : (
        (() => {
          const s = scaleSeries(points, w, H);
          return (
            <svg viewBox={`0 0 ${w} ${H + 14}`} role="img" aria-label={`${props.title}: p50 and p95 over time`}>
              <line class="grid" x1="0" y1="4" x2={w} y2="4" />
              <line class="grid" x1="0" y1={H - 4} x2={w} y2={H - 4} />
              <text x="2" y="13" font-size="10" fill="currentColor" opacity="0.7">
                {humanMs(s.max)}
              </text>
              <polyline class="p95" points={s.p95} />
              <polyline class="p50" points={s.p50} />
              {s.dots.map((d) => (
                <circle cx={d.x} cy={d.y50} r="2.2" fill="currentColor" opacity="0.8">
                  <title>
                    {`${iso(d.point.t)}: p50 ${humanMs(d.point.p50)}, p95 ${humanMs(d.point.p95)} (${d.point.n} checks)`}
                  </title>
                </circle>
              ))}
              <text x="2" y={H + 12} font-size="10" fill="currentColor" opacity="0.7">
                {clock(points[0]!.t)}
              </text>
              <text x={w - 2} y={H + 12} font-size="10" fill="currentColor" opacity="0.7" text-anchor="end">
                {clock(points[points.length - 1]!.t)}
              </text>
            </svg>
          );
        })()
      )}
    </figure>
  );
}

export function Charts(props: { checks: CheckRecord[]; fill: FillLatencySummary | null }) {
  const fill: Sample[] = props.checks
    .filter((c) => c.fill_latency_ms !== null)
    .map((c) => ({ t: c.started_at, v: c.fill_latency_ms! }));
  return (
    <div>
      <div class="legend">
        <svg width="22" height="8" aria-hidden="true">
          <line class="p50" x1="0" y1="4" x2="22" y2="4" />
        </svg>{" "}
        p50{" "}
        <svg width="22" height="8" aria-hidden="true">
          <line class="p95" x1="0" y1="4" x2="22" y2="4" />
        </svg>{" "}
        p95 · per group of consecutive checks
      </div>
      <div class="charts">
        <Chart title="Fill latency" name="fill_latency" samples={fill} wide caption={fillLatencyText(props.fill)} />
        <p class="legend definition" data-fill-latency-definition>
          Fill latency: {FILL_LATENCY_DEFINITION}. The line shows p50/p95 per group of consecutive checks; the figures
          above are the same as in session health and in /status.
        </p>
        {STAGES.map((stage) => (
          <Chart
            title={stage}
            name={stage}
            samples={props.checks
              .filter((c) => c.stages[stage])
              .map((c) => ({ t: c.started_at, v: c.stages[stage]!.ms }))}
          />
        ))}
      </div>
    </div>
  );
}

export function Health(props: { status: StatusView; now: number }) {
  const s = props.status.session as {
    state?: string;
    last_frame_at?: number | null;
    reconnects?: number;
    frames_in?: number;
    books?: Record<string, { continuity_breaks?: number }>;
  };
  const gaps = Object.values(s.books ?? {}).reduce((n, b) => n + Number(b.continuity_breaks ?? 0), 0);
  const age =
    typeof s.last_frame_at === "number"
      ? `${humanMs(props.now - s.last_frame_at)} ago`
      : s.state === "open"
        ? "no frame yet"
        : "– (no session open)";
  const lat = props.status.fill_latency_ms;
  return (
    <dl class="health">
      <div>
        <dt>Session</dt>
        <dd data-session-state>{s.state ?? "unknown"}</dd>
      </div>
      <div>
        <dt>Last frame</dt>
        <dd>{age}</dd>
      </div>
      <div>
        <dt>Reconnects</dt>
        <dd>{String(s.reconnects ?? 0)}</dd>
      </div>
      <div>
        <dt>Book gaps</dt>
        <dd>{String(gaps)}</dd>
      </div>
      <div>
        <dt>Frames in</dt>
        <dd>{String(s.frames_in ?? 0)}</dd>
      </div>
      <div class="wide" title={`Fill latency: ${FILL_LATENCY_DEFINITION}`}>
        <dt>Fill latency</dt>
        <dd data-fill-latency>{fillLatencyText(lat)}</dd>
      </div>
    </dl>
  );
}
