/**
 * `config check` (worker/config-check.ts and the CLI): a real TOML parser, every problem reported,
 * URLs, schedules against [triggers] crons and the housekeeping cron, secrets in [vars], and hostile
 * or binary files refused with one clear problem (the CLI exits 2, even on /dev/urandom).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CONFIG_FILE_LIMIT, checkConfigFiles } from "../../../worker/config-check.ts";
import { repoRoot } from "../../support/vectors.ts";

const CRONS = '[triggers]\ncrons = ["*/5 * * * *", "17 3 * * *"]\n';
const VARS = "API_TOKEN=x\nLIGHTER_PRIVATE_KEY__TESTNET_5_4=0x1\nALERT_SLACK=https://hooks.slack.com/x\n";
const toml = (monitors: string, crons = CRONS) => `name = "fillwatch"\n${crons}[vars]\nMONITORS = '${monitors}'\n`;
const entry = (extra = "") => `{"network":"testnet","account_index":5,"api_key_index":4${extra}}`;
const errorSettings = (r: ReturnType<typeof checkConfigFiles>) =>
  r.problems.filter((p) => p.severity === "error").map((p) => p.setting);

describe("checkConfigFiles", () => {
  it("a good config passes with no problem at all", () => {
    expect(checkConfigFiles(toml(`[${entry(',"schedule":"*/5 * * * *"')}]`), VARS)).toEqual({ ok: true, problems: [] });
  });

  it("reports a bad heartbeat_url, a housekeeping schedule, an unknown schedule and a missing secret together", () => {
    const monitors = [
      entry(',"alerts":{"heartbeat_url":"http://hc.example/x","targets":[{"type":"slack","url_secret":"ALERT_NOPE"}]}'),
      '{"network":"testnet","account_index":6,"api_key_index":4,"schedule":"17 3 * * *","dry_run":true}',
      '{"network":"testnet","account_index":7,"api_key_index":4,"schedule":"*/9 * * * *","dry_run":true}',
      '{"network":"testnet","account_index":8,"api_key_index":4,"dry_run":true,"alerts":{"targets":[{"type":"slack","url_secret":"ALERT_NOPE"}]}}',
    ];
    const r = checkConfigFiles(toml(`[${monitors.join(",")}]`), VARS);
    expect(r.ok).toBe(false);
    expect(errorSettings(r)).toEqual([
      "MONITORS[0].alerts.heartbeat_url",
      "MONITORS[1].schedule",
      "MONITORS[2].schedule",
      "ALERT_NOPE",
    ]);
  });

  it("keeps checking after a missing MONITORS: crons and secrets in [vars] are still reported", () => {
    const r = checkConfigFiles('name = "x"\n[vars]\nAPI_TOKEN = "in-plain-text"\n', VARS);
    expect(errorSettings(r)).toEqual([
      "wrangler.toml [triggers] crons",
      "wrangler.toml [vars] API_TOKEN",
      "wrangler.toml [vars] MONITORS",
    ]);
  });

  it("a housekeeping-only trigger list runs no check; malformed crons are named", () => {
    const r = checkConfigFiles(toml(`[${entry()}]`, '[triggers]\ncrons = ["17 3 * * *", "every day"]\n'), VARS);
    expect(errorSettings(r)).toEqual(["wrangler.toml [triggers] crons[1]", "wrangler.toml [triggers] crons"]);
  });

  it("real TOML: escapes, multi-line strings, comments and tables are read as TOML reads them", () => {
    const basic = `name = "x"\n${CRONS}[vars] # the vars\nMONITORS = "[{\\"network\\":\\"testnet\\",\\"account_index\\":5,\\"api_key_index\\":4}]"\n`;
    expect(checkConfigFiles(basic, VARS)).toEqual({ ok: true, problems: [] });
    const multi = `name = "x"\n${CRONS}[vars]\nMONITORS = """\n[\n  ${entry()}\n]"""\n[other]\nMONITORS = 1\n`;
    expect(checkConfigFiles(multi, VARS)).toEqual({ ok: true, problems: [] });
    // A [vars] header inside a string is not a table: MONITORS is missing.
    const fake = `name = "[vars]"\n${CRONS}note = """\n[vars]\nMONITORS = '[${entry()}]'\n"""\n`;
    expect(errorSettings(checkConfigFiles(fake, VARS))).toEqual(["wrangler.toml [vars] MONITORS"]);
  });

  it("a TOML syntax error names the line", () => {
    const r = checkConfigFiles(`${CRONS}[vars]\nMONITORS = '[${entry()}]\n`, VARS);
    expect(r.ok).toBe(false);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.message).toMatch(/line 4/);
  });

  it("__proto__ in wrangler.toml is refused, not merged into a prototype", () => {
    const r = checkConfigFiles(`${CRONS}[vars]\nMONITORS = '[${entry()}]'\n[__proto__]\nallow_mainnet = true\n`, VARS);
    expect(r.ok).toBe(false);
    expect(r.problems[0]!.setting).toBe("wrangler.toml");
    expect(({} as Record<string, unknown>).allow_mainnet).toBeUndefined();
  });

  it("200k blank lines are parsed (the speed is measured by npm run bench)", () => {
    const big = `${"\n".repeat(200_000)}${toml(`[${entry()}]`)}`;
    expect(checkConfigFiles(big, VARS)).toEqual({ ok: true, problems: [] });
  });

  it("binary, non-UTF-8 and oversized files fail fast with one clear problem", () => {
    const cases: [Uint8Array | string, RegExp][] = [
      [new Uint8Array([0x6e, 0x61, 0x6d, 0x65, 0x00, 0x3d]), /NUL byte at offset 4/],
      [new Uint8Array([0x6e, 0x3d, 0x22, 0xc3, 0x28, 0x22]), /not valid UTF-8/],
      [new Uint8Array(CONFIG_FILE_LIMIT + 1).fill(0x0a), /larger than/],
      ["a = 1\u0000", /NUL byte/],
    ];
    for (const [data, message] of cases) {
      const r = checkConfigFiles(data, VARS);
      expect(r.ok).toBe(false);
      expect(r.problems).toHaveLength(1);
      expect(r.problems[0]!.setting).toBe("wrangler.toml");
      expect(r.problems[0]!.message).toMatch(message);
    }
    const dv = checkConfigFiles(toml(`[${entry()}]`), new Uint8Array([0x41, 0x3d, 0xff]));
    expect(dv.problems.some((p) => p.setting === ".dev.vars" && /UTF-8/.test(p.message))).toBe(true);
  });
});

describe("fillwatch config check (built CLI)", () => {
  const bin = join(repoRoot, "bin", "fillwatch.mjs");
  beforeAll(() => {
    const b = spawnSync(process.execPath, [join(repoRoot, "scripts", "build-cli.mjs")], { encoding: "utf8" });
    if (b.status !== 0) throw new Error(`CLI build failed: ${b.stderr}`);
  });
  const run = (args: string[]) =>
    spawnSync(process.execPath, [bin, "config", "check", ...args], { encoding: "utf8", timeout: 25_000 });

  it("--wrangler /dev/urandom exits 2 with a clear message", () => {
    const r = run(["--wrangler", "/dev/urandom", "--dev-vars", "/nonexistent/.dev.vars"]);
    expect(r.signal).toBe(null);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/wrangler\.toml: wrangler\.toml (is larger than|holds a NUL byte|is not valid UTF-8)/);
  });

  it("a binary file and a missing file exit 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "fw-check-"));
    writeFileSync(join(dir, "bin.toml"), Buffer.from([0x61, 0x3d, 0x31, 0x00, 0x0a]));
    const bad = run(["--wrangler", join(dir, "bin.toml"), "--dev-vars", join(dir, "none")]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/NUL byte/);
    expect((JSON.parse(bad.stdout) as { ok: boolean }).ok).toBe(false);
    const missing = run(["--wrangler", join(dir, "nope.toml")]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read/);
  });
});
