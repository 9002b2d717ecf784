/**
 * The loopback exception for plain-http alert URLs (issue 16, defect 14): the host is read from
 * the parsed URL and must be exactly localhost, in 127.0.0.0/8, or [::1]; anything else over http
 * is refused with a message that names what is wrong, and the MONITORS problem names the field.
 */
import { describe, expect, it } from "vitest";
import { parseMonitors } from "../../../worker/config.ts";
import { isLoopback, outboundUrlProblem } from "../../../worker/config/urls.ts";

const accepted = [
  "http://localhost/h",
  "http://LOCALHOST:8080/h",
  "http://127.0.0.1/h",
  "http://127.0.0.1:9999/hook?x=1",
  "http://127.255.255.254/h",
  "http://127.1/h", // the URL parser folds it to 127.0.0.1
  "http://0x7f.0.0.1/h", // likewise
  "http://[::1]:8787/h",
  "http://[0:0:0:0:0:0:0:1]/h",
];

const refused = [
  "http://127.0.0.1.evil.example/h",
  "http://127.0.0.1.nip.io/h",
  "http://localhost.evil.example/h",
  "http://evil.example/127.0.0.1",
  "http://evil-localhost/h",
  "http://128.0.0.1/h",
  "http://126.255.255.255/h",
  "http://10.0.0.1/h",
  "http://[::2]/h",
  "http://[::ffff:127.0.0.1]/h",
  "http://user:pw@evil.example/@127.0.0.1",
];

describe("the loopback exception parses the URL", () => {
  for (const url of accepted)
    it(`accepts ${url}`, () => {
      expect(isLoopback(url)).toBe(true);
      expect(outboundUrlProblem(url)).toBeNull();
    });
  for (const url of refused)
    it(`refuses ${url}`, () => {
      expect(isLoopback(url)).toBe(false);
      expect(outboundUrlProblem(url)).toMatch(
        /^must use https \(plain http only to localhost, 127\.0\.0\.0\/8 or \[::1\]/,
      );
    });

  it("https is fine anywhere; other schemes and non-URLs are refused", () => {
    expect(outboundUrlProblem("https://127.0.0.1.evil.example/h")).toBeNull();
    expect(outboundUrlProblem("ftp://127.0.0.1/h")).toBe("must use https, not ftp");
    expect(outboundUrlProblem("127.0.0.1/h")).toBe("is not a URL");
  });

  it("a MONITORS entry with http://127.0.0.1.evil.example/h gets an error naming alerts.targets[0].url", () => {
    const raw = JSON.stringify([
      {
        network: "testnet",
        account_index: 5,
        api_key_index: 4,
        alerts: { targets: [{ type: "webhook", url: "http://127.0.0.1.evil.example/h" }] },
      },
    ]);
    const { problems } = parseMonitors(raw);
    const p = problems.find((x) => x.setting === "MONITORS[0].alerts.targets[0].url");
    expect(p, JSON.stringify(problems)).toBeDefined();
    expect(p!.severity).toBe("error");
    expect(p!.message).toContain("127.0.0.1.evil.example");
  });
});
