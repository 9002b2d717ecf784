/**
 * A monitor's private key read from its secret (worker/secrets.ts `privateKeyFrom`): absent means no
 * key and no error (the check runs dry), malformed or zero is an error that names the secret and
 * never holds the value, and what to redact from the log is the trimmed value.
 */
import { describe, expect, it } from "vitest";
import { privateKeyFrom } from "../../../worker/secrets.ts";

const NAME = "LIGHTER_PRIVATE_KEY__A";
const GOOD = "11".repeat(40);

describe("the private key from its secret", () => {
  it("absent, blank, malformed, zero and good", () => {
    const table: [value: string | null, key: boolean, error: RegExp | null, raw: string | null][] = [
      [null, false, null, null],
      ["   ", false, null, null],
      ["zz".repeat(40), false, /^LIGHTER_PRIVATE_KEY__A: /, "zz".repeat(40)],
      ["11", false, /^LIGHTER_PRIVATE_KEY__A: /, "11"],
      ["00".repeat(40), false, /^LIGHTER_PRIVATE_KEY__A is the zero key$/, "00".repeat(40)],
      [` ${GOOD}\n`, true, null, GOOD],
    ];
    for (const [value, key, error, raw] of table) {
      const r = privateKeyFrom((n) => (n === NAME ? value : null), NAME);
      const label = JSON.stringify(value);
      expect(r.key !== null, label).toBe(key);
      if (error) expect(r.error, label).toMatch(error);
      else expect(r.error, label).toBeNull();
      expect(r.raw, label).toBe(raw);
      if (r.error && value) expect(r.error, label).not.toContain(value.trim());
    }
  });
});
