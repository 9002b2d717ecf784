/**
 * The built CLI's help, version and flag handling: `--help` for every command and group,
 * `--version` from package.json, unknown flags refused (exit 2) with the closest known flag, and
 * flags that leak no value into the error.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../support/vectors.ts";
import { buildCli, run } from "./run.ts";

beforeAll(buildCli);

/** Every command and the flags its help must list. */
const COMMANDS: Record<string, string[]> = {
  "keys pubkey": ["--private-key HEX"],
  "tx sign": ["--json JSON", "--private-key HEX"],
  "tx verify": ["--tx-type N", "--tx-info JSON", "--public-key HEX", "--chain-id N"],
  "auth-token create": ["--private-key HEX", "--account N", "--api-key N", "--deadline UNIX_SECONDS"],
  "auth-token verify": ["--token T", "--public-key HEX"],
  replay: ["--account N", "--file PATH"],
  "config check": ["--wrangler PATH", "--dev-vars PATH"],
  status: ["--url URL", "--token T", "--monitor ID", "--json"],
};

describe("fillwatch --help and --version", () => {
  it("fillwatch --help lists every command on stdout, exit 0", () => {
    for (const flag of ["--help", "-h", "help"]) {
      const r = run([flag]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      for (const name of Object.keys(COMMANDS)) expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, "m"));
    }
  });

  it("fillwatch with no command prints the help to stderr, exit 2", () => {
    const r = run([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("Usage: fillwatch <command>");
  });

  it("--version prints package.json's version", () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ["--version", "-V"])
      expect(run([flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
    expect(run(["--help"]).stdout.split("\n")[0]).toContain(`fillwatch ${version} `);
  });

  for (const [name, flags] of Object.entries(COMMANDS)) {
    it(`fillwatch ${name} --help shows its usage and every flag`, () => {
      const r = run([...name.split(" "), "--help"]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout.startsWith(`fillwatch ${name} — `)).toBe(true);
      expect(r.stdout).toContain(`Usage: fillwatch ${name} `);
      for (const f of [...flags, "--help"]) expect(r.stdout).toMatch(new RegExp(`^  ${f} +\\S`, "m"));
      const exit1 = {
        "tx verify": "invalid signature",
        "auth-token verify": "invalid signature or expired",
        status: "the deployment could not be reached",
      }[name];
      expect(r.stdout).toContain(
        exit1 ? `\nExit codes: 0 ok, 1 ${exit1}` : "\nExit codes: 0 ok, 2 usage or input error.\n",
      );
      // -h, and --help after other flags (even unknown ones) also show the help and run nothing.
      expect(run([...name.split(" "), "--bogus", "1", "-h"])).toEqual(r);
    });
  }

  it("a group without a subcommand lists its subcommands; with --help on stdout", () => {
    const h = run(["auth-token", "--help"]);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/fillwatch auth-token create +create/);
    expect(h.stdout).toMatch(/fillwatch auth-token verify +verify/);
    const bare = run(["tx"]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe("");
    expect(bare.stderr).toMatch(/fillwatch tx sign/);
    expect(bare.stderr).toMatch(/fillwatch: tx needs a subcommand/);
  });
});

describe("unknown flags and commands", () => {
  it("replay --acount 5 is exit 2 suggesting --account", () => {
    expect(run(["replay", "--acount", "5"], "")).toEqual({
      code: 2,
      stdout: "",
      stderr: "fillwatch: unknown flag --acount (did you mean --account?)\n",
    });
  });

  it("suggests the closest flag of the command it was given to", () => {
    const cases: [string[], string][] = [
      [["tx", "verify", "--chainid", "1"], "--chain-id"],
      [["tx", "sign", "--jsno", "{}"], "--json"],
      [["auth-token", "create", "--apikey=3"], "--api-key"],
      [["auth-token", "verify", "--tokn", "x"], "--token"],
      [["config", "check", "--devvars", "x"], "--dev-vars"],
      [["status", "--monitr", "a"], "--monitor"],
      [["status", "--jsn"], "--json"],
      [["replay", "--fille", "x"], "--file"],
    ];
    for (const [args, near] of cases) {
      const r = run(args, "");
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(new RegExp(`unknown flag --\\S+ \\(did you mean ${near}\\?\\)\\n$`));
    }
  });

  it("a flag close to nothing gets no suggestion", () => {
    const r = run(["replay", "--zzzzzzzz", "1"], "");
    expect(r).toEqual({ code: 2, stdout: "", stderr: "fillwatch: unknown flag --zzzzzzzz\n" });
  });

  it("a mistyped secret flag never echoes its value", () => {
    const secret = "0123456789abcdef".repeat(5);
    const r = run(["keys", "pubkey", "--privatekey", secret]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("fillwatch: unknown flag --privatekey (did you mean --private-key?)\n");
    const eq = run(["keys", "pubkey", `--private_key=${secret}`]);
    expect(eq.code).toBe(2);
    expect(eq.stderr).not.toContain(secret.slice(0, 16));
  });

  it("unknown commands suggest the closest command", () => {
    expect(run(["replya"]).stderr).toBe('fillwatch: unknown command "replya" (did you mean replay?)\n');
    expect(run(["tx", "sing"]).stderr).toMatch(/unknown command "tx sing" \(did you mean "tx sign"\?\)/);
    expect(run(["nope"]).stderr).toMatch(/unknown command "nope" \(try --help\)/);
  });

  it("malformed flag use is exit 2 with the flag named", () => {
    const cases: [string[], RegExp][] = [
      [["replay", "--account"], /--account needs a value \(N\)/],
      [["replay", "--account", "1", "--account", "2"], /--account is given twice/],
      [["replay", "--account", "x"], /--account must be an integer/],
      [["replay", "stray"], /unexpected argument "stray"/],
      [["status", "--json=yes", "--url", "http://127.0.0.1:9", "--token", "t"], /--json takes no value/],
    ];
    for (const [args, re] of cases) {
      const r = run(args, "");
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(re);
    }
  });

  it("the private key may come from FILLWATCH_PRIVATE_KEY", () => {
    const det = JSON.parse(
      readFileSync(join(repoRoot, "test", "fixtures", "lighter", "deterministic.json"), "utf8"),
    ) as { private_key_hex: string; public_key_hex: string };
    const r = run(["keys", "pubkey"], undefined, { FILLWATCH_PRIVATE_KEY: det.private_key_hex });
    expect(r).toEqual({ code: 0, stdout: `${det.public_key_hex}\n`, stderr: "" });
  });
});
