/** `npm start`'s options and printed text: --every/--manual/--watch, and errors that name the flag. */
import { describe, expect, it } from "vitest";
import { checkDemo, openingLines, parseStartArgs, watchDemo } from "../../scripts/playground-text.ts";

const ctx = {
  base: "http://127.0.0.1:8787",
  sim: "http://127.0.0.1:8790",
  account: "281474976710654",
  chainId: 300,
  apiKeyIndex: 4,
  token: "tok",
  tokenSource: ".dev.vars.example",
  alertUrl: "http://127.0.0.1:1234/alerts",
  alertSecretName: "ALERT_PLAYGROUND_HMAC",
};

describe("npm start options", () => {
  it("defaults to a cron trigger every 30 s; --every changes it; --manual turns it off", () => {
    expect(parseStartArgs([])).toEqual({ watch: false, everyS: 30 });
    expect(parseStartArgs(["--every", "5"])).toEqual({ watch: false, everyS: 5 });
    expect(parseStartArgs(["--every=120", "--watch"])).toEqual({ watch: true, everyS: 120 });
    expect(parseStartArgs(["--manual"])).toEqual({ watch: false, everyS: null });
  });

  it("refuses bad values, naming the flag", () => {
    expect(() => parseStartArgs(["--every"])).toThrow(/--every: must be a whole number/);
    expect(() => parseStartArgs(["--every", "0"])).toThrow(/--every/);
    expect(() => parseStartArgs(["--every", "1.5"])).toThrow(/--every/);
    expect(() => parseStartArgs(["--manual", "--every", "3"])).toThrow(/exclude/);
    expect(() => parseStartArgs(["--evry"])).toThrow(/unknown option "--evry"/);
  });

  it("the first line says how checks run", () => {
    expect(openingLines({ watch: false, everyS: 30 }).split("\n")[0]).toContain("a check runs by itself every 30 s");
    expect(openingLines({ watch: false, everyS: null }).split("\n")[0]).toContain("only when you trigger them");
  });

  it("the demos carry the account and the URLs", () => {
    const d = checkDemo({ watch: false, everyS: 30 }, ctx);
    expect(d).toContain(
      `curl -X POST http://127.0.0.1:8790/_sim/faults -d '{"name":"withhold_account_orders","account_index":281474976710654}'`,
    );
    expect(d).toContain("export API_TOKEN=tok");
    expect(watchDemo(ctx)).toContain(`"account_index":281474976710654}`);
    expect(watchDemo(ctx)).not.toContain("<account>");
  });
});
