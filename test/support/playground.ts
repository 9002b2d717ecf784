/**
 * Test helper: runs `npm start`'s launcher (scripts/start.ts: simulator + wrangler dev + alert
 * receiver) on free ports in its own process group, waits until wrangler is ready, and offers the
 * API (bearer), the simulator's fault controls and a way to run one check to its end.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { repoRoot } from "./vectors.ts";

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Playground {
  base: string;
  sim: string;
  token: string;
  output(): string;
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Starts a check and waits until it is done (flatten included); returns its verdict. */
  runCheck(): Promise<{ id: string; verdict: string }>;
  stop(): void;
}

/** `args` go to `npm start` (default `--manual`: the test triggers every check itself). */
export async function startPlayground(args: readonly string[] = ["--manual"]): Promise<Playground> {
  const simPort = await freePort();
  const devPort = await freePort();
  const child = spawn(process.execPath, [join(repoRoot, "scripts", "start.ts"), ...args], {
    cwd: repoRoot,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PATH: `${join(repoRoot, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
      FILLWATCH_SIM_PORT: String(simPort),
      FILLWATCH_DEV_PORT: String(devPort),
    },
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const stop = () => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  };
  const until = Date.now() + 90_000;
  while (!/Ready on/.test(out) && Date.now() < until && child.exitCode === null) await sleep(200);
  if (!/Ready on/.test(out)) {
    stop();
    throw new Error(`the playground did not start:\n${out.slice(-2000)}`);
  }
  const token = /^\s*API_TOKEN\s*=\s*(\S+)/m.exec(readFileSync(join(repoRoot, ".dev.vars.example"), "utf8"))![1]!;
  const base = `http://127.0.0.1:${devPort}`;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...init.headers } });
  return {
    base,
    sim: `http://127.0.0.1:${simPort}`,
    token,
    output: () => out,
    api,
    stop,
    async runCheck() {
      const res = await api("/checks/run", { method: "POST" });
      if (res.status !== 202) throw new Error(`/checks/run answered ${res.status}: ${await res.text()}`);
      const { check_id } = (await res.json()) as { check_id: string };
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const r = await api(`/checks/${check_id}`);
        const c = (await r.json()) as { state: string; verdict: string | null };
        if (c.state === "done" && c.verdict) return { id: check_id, verdict: c.verdict };
        await sleep(200);
      }
      throw new Error(`check ${check_id} did not finish`);
    },
  };
}
