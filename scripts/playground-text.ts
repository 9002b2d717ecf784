/**
 * The playground's command line and what it prints (pure, so the quick-start test can check it):
 * `--every <seconds>` / `--manual` / `--watch`, the opening lines that say how checks are
 * triggered, and the exact demo commands with the simulator's URL and account filled in.
 */

export interface StartOptions {
  watch: boolean;
  /** Seconds between automatic cron triggers; null with --manual. */
  everyS: number | null;
}

export const DEFAULT_EVERY_S = 30;

/** `--watch`, `--manual`, `--every <seconds>` (or `--every=<seconds>`); an error names the flag. */
export function parseStartArgs(argv: readonly string[]): StartOptions {
  let watch = false;
  let manual = false;
  let every: number | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--watch") watch = true;
    else if (a === "--manual") manual = true;
    else if (a === "--every" || a.startsWith("--every=")) {
      const v = a === "--every" ? argv[++i] : a.slice("--every=".length);
      if (v === undefined || !/^[1-9][0-9]{0,4}$/.test(v))
        throw new Error(`--every: must be a whole number of seconds from 1 to 99999 (got ${JSON.stringify(v ?? "")})`);
      every = Number(v);
    } else throw new Error(`unknown option ${JSON.stringify(a)} (use --every <seconds>, --manual or --watch)`);
  }
  if (manual && every !== null) throw new Error("--manual and --every exclude each other");
  return { watch, everyS: manual ? null : (every ?? DEFAULT_EVERY_S) };
}

/** The local endpoint that runs the Worker's scheduled handler (wrangler dev never fires crons). */
export function cronUrl(base: string): string {
  return `${base}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`;
}

/** The first lines `npm start` prints, before anything else starts. */
export function openingLines(o: StartOptions): string {
  const how =
    o.everyS === null
      ? "checks run only when you trigger them (--manual): see the curl command below"
      : o.watch
        ? `the watch session is kept by a cron trigger every ${o.everyS} s (npm start -- --every <seconds> to change, --manual for none)`
        : `a check runs by itself every ${o.everyS} s (npm start -- --every <seconds> to change, --manual to trigger by hand)`;
  return `[fillwatch] playground: ${how}\n[fillwatch] starting the simulated Lighter and wrangler dev…`;
}

export interface DemoContext {
  base: string;
  sim: string;
  account: string;
  chainId: number;
  apiKeyIndex: number;
  token: string;
  tokenSource: string;
  alertUrl: string;
  alertSecretName: string;
  /** The watch monitor's id (the bot ingest route's path). */
  monitorId?: string;
  /** The bot ingest token from .dev.vars(.example), if any. */
  ingestToken?: string | null;
}

/** The demo of a check mode playground: the fault that fills but never reports on the WebSocket. */
export function checkDemo(o: StartOptions, d: DemoContext): string {
  const trigger =
    o.everyS === null
      ? `  curl '${cronUrl(d.base)}'      # run a check now (--manual)`
      : `  curl '${cronUrl(d.base)}'      # one more check now (one also runs every ${o.everyS} s)`;
  return `
[fillwatch] simulator: ${d.sim} (chain ${d.chainId}, account ${d.account}, API key ${d.apiKeyIndex})
[fillwatch] worker:    ${d.base}   (API_TOKEN from ${d.tokenSource})
[fillwatch] page:      ${d.base}/   (sign in with API_TOKEN; live tail at ${d.base.replace("http", "ws")}/logs/stream)
[fillwatch] alerts:    ${d.alertUrl}   (webhook target, HMAC key in ${d.alertSecretName}; each alert is printed here as [alert])

  export API_TOKEN=${d.token || "<your API_TOKEN>"}
${trigger}
  curl -H "Authorization: Bearer $API_TOKEN" ${d.base}/status     # see it

  # the failure demo: the exchange fills the order but never tells the WebSocket
  curl -X POST ${d.sim}/_sim/faults -d '{"name":"withhold_account_orders","account_index":${d.account}}'
  # within ${o.everyS === null ? "10 s of the next check" : `${o.everyS + 10} s`}: "verdict":"fail", "diagnosis":"filled_not_reported_on_ws", an [alert] line here
  curl -s -H "Authorization: Bearer $API_TOKEN" ${d.base}/status | jq '.monitors[0].last_check.diagnosis, .monitors[0].incidents'
  curl -X DELETE ${d.sim}/_sim/faults                     # heal: the next passing check resolves the incident

  # the watch demo (a bot's real fills, never an order of ours): npm start -- --watch
`;
}

/** The demo of `--watch`: lose every third fill of the simulator's bot on every channel. */
export function watchDemo(d: DemoContext): string {
  return `
[fillwatch] WATCH mode: the simulator's bot trades on account ${d.account} (20 orders/min); fillwatch watches it.
[fillwatch] worker:    ${d.base}   (API_TOKEN from ${d.tokenSource})

  export API_TOKEN=${d.token || "<your API_TOKEN>"}
  curl -H "Authorization: Bearer $API_TOKEN" ${d.base}/status     # session, fills, budget: .monitors[0].watch

  # the watch demo: lose every 3rd fill of the bot on every channel (REST still shows it):
  curl -X POST ${d.sim}/_sim/faults -d '{"name":"withhold_orders","every_n":3,"account_index":${d.account}}'
  # within a few seconds /status shows fill_not_reported with the order index:
  curl -s -H "Authorization: Bearer $API_TOKEN" ${d.base}/status | jq '.monitors[0].watch.recent_misses, .monitors[0].incidents'
  curl -X DELETE ${d.sim}/_sim/faults                     # heal

  # your bot's side: a playground bot reports every fill it sees to POST /watch/<monitor>/seen
  # (report/reporter.ts). Report a fill the exchange never made → bot_phantom_fill within seconds:
  export INGEST_TOKEN=${d.ingestToken ?? "<WATCH_INGEST_TOKEN__… from .dev.vars>"}
  curl -X POST -H "Authorization: Bearer $INGEST_TOKEN" -H 'content-type: application/json' \\
    -d '[{"order_index":"281474976710655123","filled_base":"0.0300","seen_at":'"$(date +%s%3N)"'}]' \\
    ${d.base}/watch/${d.monitorId ?? "<monitor id>"}/seen
  curl -s -H "Authorization: Bearer $API_TOKEN" ${d.base}/status | jq '.monitors[0].watch.bot, .monitors[0].delivery_latency_ms'
`;
}
