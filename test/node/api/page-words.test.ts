/** The status page's wording (test/node/api for the Workers types its JSX imports): relative times (server and browser agree) and uptime figures. */
import { describe, expect, it } from "vitest";
import { percent } from "../../../worker/page/history.tsx";
import { AGO_JS, ago } from "../../../worker/page/time.ts";

describe("relative times", () => {
  const now = Date.UTC(2026, 11, 6, 12, 0, 0);
  const cases: [number, string][] = [
    [now - 2_000, "just now"],
    [now - 42_000, "42 s ago"],
    [now - 180_000, "3 min ago"],
    [now - 5 * 3_600_000, "5 h ago"],
    [now - 47 * 3_600_000, "47 h ago"],
    [now - 12 * 86_400_000, "12 d ago"],
    [now + 180_000, "in 3 min"],
  ];
  it("reads like a person would say it", () => {
    for (const [t, text] of cases) expect(ago(t, now)).toBe(text);
  });
  it("the page's script says the same", () => {
    const browserAgo = new Function(`${AGO_JS}; return ago;`)() as (ms: number, now: number) => string;
    for (const [t, text] of cases) expect(browserAgo(t, now)).toBe(text);
  });
});

describe("uptime figures", () => {
  it("never rounds a failure up to 100%", () => {
    expect(percent(null)).toBe("–");
    expect(percent(1)).toBe("100%");
    expect(percent(0)).toBe("0%");
    expect(percent(0.75)).toBe("75%");
    expect(percent(2 / 3)).toBe("66.7%");
    expect(percent(0.99999)).toBe("99.9%");
    expect(percent(0.9994)).toBe("99.9%");
  });
});
