/** GET /healthz is public and says nothing about the monitors. */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("GET /healthz", () => {
  it("answers publicly without details", async () => {
    const res = await exports.default.fetch("http://fillwatch.test/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });
});
