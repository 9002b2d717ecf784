/**
 * `npm start`: the local playground. Starts the Lighter simulator on 127.0.0.1:8790, reads the
 * funded test account from its first stdout line, and runs `wrangler dev` on 127.0.0.1:8787 with a
 * monitor pointed at the simulator. API_TOKEN comes from .dev.vars if present, else from
 * .dev.vars.example (a local-only value). Ctrl-C stops both.
 *
 * The simulator's URLs, chain id and account go in as --var; the private key goes through an
 * --env-file under .wrangler/ (mode 600) so it never shows in the process list.
 *
 * Alerts: a local receiver (scripts/alert-receiver.ts, 127.0.0.1, port FILLWATCH_ALERT_PORT or any
 * free one) is the monitor's webhook target, signed with a per-run key in ALERT_PLAYGROUND_HMAC
 * (same env-file); it prints each alert it receives with its payload and whether the HMAC verified.
 * `npm start -- --watch`: the monitor runs in watch mode on the simulator's account while the
 * simulator's trading bot trades on it (its own API key), and the watch starts at once.
 *
 * `wrangler dev` never fires cron triggers, so the playground does: it calls wrangler's local
 * scheduled endpoint every 30 s (`--every <seconds>` to change, `--manual` for none) and says so in
 * its first lines; the demo commands are printed with the simulator's account filled in
 * (scripts/playground-text.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { privateKeySecretName } from "../worker/config.ts";
import { startAlertReceiver } from "./alert-receiver.ts";
import { checkDemo, cronUrl, openingLines, parseStartArgs, watchDemo, type StartOptions } from "./playground-text.ts";
import { ingestTokenSecretName } from "../worker/monitor/watch/bot-ingest.ts";
import { readIngestToken, startPlaygroundBot } from "./playground-bot.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const SIM_PORT = Number(process.env.FILLWATCH_SIM_PORT ?? 8790);
const DEV_PORT = Number(process.env.FILLWATCH_DEV_PORT ?? 8787);
const bin = (name: string) => join(root, "node_modules", ".bin", name);

interface SimAccount {
  ws: string;
  rest: string;
  chain_id: number;
  account_index: number | string;
  api_key_index: number;
  private_key: string;
  market_index: number;
}

const children: ChildProcess[] = [];
let stopping = false;
function stopAll(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  setTimeout(() => process.exit(code), 1500).unref();
}
process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));

function startSimulator(): Promise<SimAccount> {
  const sim = spawn(
    process.execPath,
    [join(root, "test", "sim", "main.ts"), "--port", String(SIM_PORT), "--seed", "1"],
    {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.push(sim);
  // The simulator's own how-to lines ("sim:   curl …") would repeat the playground's demo, unscoped.
  createInterface({ input: sim.stderr! }).on("line", (line) => {
    if (!line.startsWith("sim:   ")) console.error(line);
  });
  sim.on("exit", (code) => {
    if (!stopping) {
      console.error(`[fillwatch] simulator exited (${code})`);
      stopAll(1);
    }
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: sim.stdout! });
    let first = true;
    lines.on("line", (line) => {
      if (first) {
        first = false;
        try {
          resolve(JSON.parse(line) as SimAccount);
        } catch {
          reject(new Error(`simulator's first line is not JSON: ${line.slice(0, 200)}`));
        }
        return;
      }
      console.log(`[sim] ${line}`);
    });
    setTimeout(() => reject(new Error("simulator did not print its account within 15 s")), 15_000).unref();
  });
}

function apiTokenFile(): string {
  const devVars = join(root, ".dev.vars");
  return existsSync(devVars) ? devVars : join(root, ".dev.vars.example");
}

function readApiToken(file: string): string {
  const m = /^\s*API_TOKEN\s*=\s*"?([^"\n]*)"?\s*$/m.exec(readFileSync(file, "utf8"));
  return m?.[1] ?? "";
}

let opts: StartOptions;
try {
  opts = parseStartArgs(process.argv.slice(2));
} catch (err) {
  console.error(`[fillwatch] ${(err as Error).message}`);
  process.exit(2);
}
console.log(openingLines(opts));
const WATCH = opts.watch;
const account = await startSimulator();
const ALERT_HMAC_SECRET = "ALERT_PLAYGROUND_HMAC";
const alertKey = randomBytes(32).toString("hex");
const receiver = await startAlertReceiver({
  port: Number(process.env.FILLWATCH_ALERT_PORT ?? 0),
  hmacKey: alertKey,
  print: (text) => console.log(text),
});
const monitor = {
  network: "custom",
  rest_url: account.rest,
  ws_url: account.ws,
  chain_id: account.chain_id,
  account_index: Number(account.account_index),
  api_key_index: account.api_key_index,
  markets: [account.market_index],
  mode: "on-demand",
  // A simulated exchange: a check every 30 s must not run into the production daily caps.
  max_orders_per_day: 100_000,
  max_daily_notional_usd: 1e9,
  // Local playground: deadlines at 0.3× production, so a failing check concludes in ~8 s.
  time_scale: 0.3,
  max_slippage_bps: 100,
  // The first failing check alerts, so the playground shows an alert right away.
  alerts: {
    fail_after: 1,
    resolve_after: 1,
    targets: [{ type: "webhook", url: receiver.url, secret_name: ALERT_HMAC_SECRET }],
  },
};
if (WATCH)
  Object.assign(monitor, {
    mode: "watch",
    watch: { window_s: 10, reconcile_s: 10 },
    bot: { window_s: 10, silence_s: 60 },
  });
const monitors = JSON.stringify([monitor]);
const monitorId = `custom:${account.account_index}:${account.api_key_index}`;
const keyName = privateKeySecretName("custom", BigInt(account.account_index), account.api_key_index);
// The ingest token comes from .dev.vars(.example); the simulator's account decides the secret's name.
const ingestToken = readIngestToken(readFileSync(apiTokenFile(), "utf8"));
mkdirSync(join(root, ".wrangler"), { recursive: true });
// One file per dev port: two playgrounds at once (the quick-start and browser tests) never read
// each other's keys.
const secretsFile = join(root, ".wrangler", `fillwatch-sim-${DEV_PORT}.env`);
writeFileSync(
  secretsFile,
  `${keyName}="${account.private_key}"\n${ALERT_HMAC_SECRET}="${alertKey}"\n` +
    (ingestToken ? `${ingestTokenSecretName(monitorId)}="${ingestToken}"\n` : ""),
  { mode: 0o600 },
);

// The simulator starts empty every run, so the Durable Object state must too: state left by an
// earlier run refers to orders and positions of a simulator that no longer exists.
const persistDir = join(root, ".wrangler", `fillwatch-dev-${DEV_PORT}`);
rmSync(persistDir, { recursive: true, force: true });

const tokenFile = apiTokenFile();
const token = readApiToken(tokenFile);
const dev = spawn(
  bin("wrangler"),
  [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(DEV_PORT),
    "--env-file",
    tokenFile,
    "--env-file",
    secretsFile,
    "--var",
    `MONITORS:${monitors}`,
    "--persist-to",
    persistDir,
    "--show-interactive-dev-session=false",
  ],
  {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_HIDE_BANNER: "true",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
    },
  },
);
children.push(dev);
dev.on("exit", (code) => {
  if (!stopping) stopAll(code ?? 1);
});

const base = `http://127.0.0.1:${DEV_PORT}`;
const demo = {
  base,
  sim: account.rest,
  account: String(account.account_index),
  chainId: account.chain_id,
  apiKeyIndex: account.api_key_index,
  token,
  tokenSource: tokenFile.endsWith(".example") ? ".dev.vars.example" : ".dev.vars",
  alertUrl: receiver.url,
  alertSecretName: ALERT_HMAC_SECRET,
  monitorId,
  ingestToken,
};
const ready = await waitForWorker();
if (WATCH) await startBot();
if (WATCH && ingestToken)
  startPlaygroundBot({
    simRest: account.rest,
    account: String(account.account_index),
    fillwatch: base,
    monitor: monitorId,
    token: ingestToken,
    stopped: () => stopping,
  });
console.log(WATCH ? watchDemo(demo) : checkDemo(opts, demo));
if (ready && opts.everyS !== null) autoTrigger(opts.everyS * 1000);

/** Waits (up to 60 s) until wrangler dev answers, triggering the first cron tick on the way. */
async function waitForWorker(): Promise<boolean> {
  const until = Date.now() + 60_000;
  while (Date.now() < until && !stopping) {
    try {
      const r = await fetch(opts.everyS === null && !WATCH ? `${base}/healthz` : cronUrl(base));
      if (r.ok) return true;
    } catch {
      // wrangler dev is not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  console.error(`[fillwatch] wrangler dev did not answer on ${base} within 60 s`);
  return false;
}

/** The cron trigger wrangler dev does not fire: one tick every `periodMs`, as a deployed Worker would. */
function autoTrigger(periodMs: number): void {
  const timer = setInterval(() => {
    fetch(cronUrl(base))
      .then((r) => r.body?.cancel())
      .catch((err: unknown) => console.error(`[fillwatch] cron trigger failed: ${(err as Error).message}`));
  }, periodMs);
  process.on("exit", () => clearInterval(timer));
}

/** --watch: the simulator's bot trades on the watched account (its own API key). */
async function startBot(): Promise<void> {
  const bot = await fetch(`${account.rest}/_sim/bot`, {
    method: "POST",
    body: JSON.stringify({ account_index: String(account.account_index), rate_per_min: 20, seed: 1 }),
  });
  if (bot.status !== 201) console.error(`[fillwatch] the simulator's bot did not start: ${await bot.text()}`);
}
