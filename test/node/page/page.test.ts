/**
 * The status page in a real browser (Debian chromium driven by playwright-core) against `wrangler
 * dev` and the simulator, for a known history (pass, pass, fail): the verdict, the timeline and
 * its details, the open incident with its action, uptime over 24 h / 7 d / 30 d, the incident
 * history, relative times with the exact time on hover, one fill-latency figure in the chart and
 * in session health, the charts; sign-in and sign-out; a check started from the page's button
 * arrives live over the tail, flips the verdict and resolves the incident, which stays in the
 * history. No CSP violation. Screenshots go to test-results/. Without /usr/bin/chromium the test fails in CI and is skipped (with the
 * reason printed) elsewhere.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../support/vectors.ts";
import { startPlayground, type Playground } from "../../support/playground.ts";

const CHROMIUM = "/usr/bin/chromium";
const inCI = process.env.CI === "true" || process.env.CI === "1";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !inCI)
  console.warn(
    `[page browser test] SKIPPED: ${CHROMIUM} not found (install it with: apt-get update && apt-get install -y chromium). In CI (CI=true) this is a failure.`,
  );

const shots = join(repoRoot, "test-results");

let pg: Playground | null = null;
let browser: Browser | null = null;
afterAll(async () => {
  await browser?.close().catch(() => undefined);
  pg?.stop();
});

describe.skipIf(!haveChromium && !inCI)("status page in chromium", () => {
  it("shows the verdict, timeline, incident and charts; signs in and out; a live update arrives", async () => {
    expect(haveChromium, `${CHROMIUM} is missing: apt-get update && apt-get install -y chromium`).toBe(true);
    mkdirSync(shots, { recursive: true });
    pg = await startPlayground();

    // A known history: pass, pass, then a rejected order (fail, which opens an incident).
    expect((await pg.runCheck()).verdict).toBe("pass");
    expect((await pg.runCheck()).verdict).toBe("pass");
    const fault = await fetch(`${pg.sim}/_sim/faults`, {
      method: "POST",
      body: JSON.stringify({ name: "reject_tx", code: 21120 }),
    });
    expect(fault.status).toBeLessThan(300);
    const failed = await pg.runCheck();
    expect(failed.verdict).toBe("fail");
    await fetch(`${pg.sim}/_sim/faults`, { method: "DELETE" });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    // A Content-Security-Policy violation is a console error in Chromium.
    page.on("console", (m) => {
      if (m.type() === "error" && /Content Security Policy/i.test(m.text())) errors.push(m.text());
    });

    // Signed out: the sign-in form, no monitor data.
    await page.goto(`${pg.base}/`);
    await expect.poll(() => page.locator("form.signin").count()).toBe(1);
    expect(await page.locator("section.monitor").count()).toBe(0);
    await page.screenshot({ path: join(shots, "page-signin.png") });

    // A wrong token stays on the form.
    await page.fill("#token", "not-the-token");
    await page.click("form.signin button[type=submit]");
    await expect.poll(() => page.locator(".error-msg").textContent()).toContain("not right");

    await page.fill("#token", pg.token);
    await page.click("form.signin button[type=submit]");
    await page.waitForSelector("section.monitor");
    expect(page.url()).toBe(`${pg.base}/`);
    expect(page.url()).not.toContain(pg.token);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === "fillwatch_session");
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe("Strict");
    expect(session?.value).not.toContain(pg.token);

    // The verdict in large type, and why.
    const verdict = page.locator(".verdict");
    expect(await verdict.getAttribute("data-verdict")).toBe("fail");
    expect(await verdict.textContent()).toBe("FAIL");
    expect(await page.locator(".why").first().textContent()).toContain("order_accepted");

    // The timeline: oldest left, coloured by verdict, details on hover (title) and tap.
    const cells = page.locator(".timeline details");
    expect(await cells.evaluateAll((els) => els.map((e) => e.getAttribute("data-verdict")))).toEqual([
      "pass",
      "pass",
      "fail",
    ]);
    const failCell = cells.nth(2);
    expect(await failCell.locator("summary").getAttribute("title")).toMatch(/fail · stage: order_accepted/);
    const bg = await failCell.locator("summary").evaluate((e) => getComputedStyle(e).backgroundColor);
    const passBg = await cells
      .nth(0)
      .locator("summary")
      .evaluate((e) => getComputedStyle(e).backgroundColor);
    expect(bg).not.toBe(passBg);
    await failCell.locator("summary").click();
    await expect.poll(() => failCell.locator(".pop").isVisible()).toBe(true);
    expect(await failCell.locator(".pop").textContent()).toContain("tx_rejected");

    // The open incident with its action text.
    const incident = page.locator("[data-incident]");
    expect(await incident.count()).toBe(1);
    expect(await incident.textContent()).toContain("tx_rejected");
    expect((await page.locator("[data-action]").textContent())!.length).toBeGreaterThan(40);

    // Uptime: 2 of 3 checks detected the fill, in every window; per stage, order_accepted is 2 of 3.
    for (const w of ["24h", "7d", "30d"])
      expect(await page.locator(`[data-uptime="${w}"] dd[data-ratio]`).textContent(), w).toBe("66.7%");
    expect(await page.locator('[data-uptime="24h"]').textContent()).toContain("3 checks");
    await page.locator("details.stages summary").click();
    expect(await page.locator('[data-stage-uptime="order_accepted"] td').first().textContent()).toBe("66.7%");
    expect(await page.locator('[data-stage-uptime="connect"] td').first().textContent()).toBe("100%");

    // Incident history: the open incident, with its diagnosis and action.
    const history = page.locator("[data-incident-history] li");
    expect(await history.count()).toBe(1);
    expect(await history.first().getAttribute("data-state")).toBe("open");
    expect(await history.first().textContent()).toContain("tx_rejected");
    expect(await history.first().locator(".inc-action").textContent()).toMatch(/^Action: .{40,}/);

    // Relative times, exact on hover.
    const times = page.locator("main time[data-ts]");
    expect(await times.count()).toBeGreaterThan(1);
    expect(await times.first().textContent()).toMatch(/^(just now|\d+ (s|min) ago)$/);
    expect(await times.first().getAttribute("title")).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/);

    // One fill latency: the chart's figures are session health's, and the definition is named.
    const chartFigures = await page.locator('figure[data-chart="fill_latency"] [data-figures]').textContent();
    expect(chartFigures).toMatch(/^p50 .+ · p95 .+ · p99 .+ \(2 checks\)$/);
    expect(await page.locator("[data-fill-latency]").textContent()).toBe(chartFigures);
    expect(await page.locator("[data-fill-latency-definition]").textContent()).toContain(
      "from signing the test order to its first fill seen on the WebSocket",
    );

    // Charts: fill latency (two passing checks) and one per stage.
    const fillLine = page.locator('figure[data-chart="fill_latency"] polyline.p50');
    expect((await fillLine.getAttribute("points"))!.trim().split(" ")).toHaveLength(2);
    for (const stage of ["connect", "preflight", "order_accepted", "order_seen", "fill_seen", "processed"])
      expect(await page.locator(`figure[data-chart="${stage}"] svg`).count(), stage).toBe(1);
    expect(await page.locator("dl.health").textContent()).toContain("Reconnects");

    // Live: the tail connects; the page's button starts a check (with the CSRF token) and its
    // events arrive over the socket; the verdict flips without a reload.
    await page.waitForSelector('section.monitor[data-live="open"]');
    await page.screenshot({ path: join(shots, "page-dashboard.png"), fullPage: true });
    await page.click("button[data-run]");
    await expect.poll(() => page.locator("[data-run-result]").textContent()).toMatch(/^started /);
    await page.waitForSelector('.live li[data-event="check.started"]', { timeout: 30_000 });
    await page.waitForSelector('.live li[data-event="check.verdict"]', { timeout: 30_000 });
    await expect.poll(() => page.locator(".verdict").getAttribute("data-verdict"), { timeout: 15_000 }).toBe("pass");
    expect(await page.locator(".timeline details").count()).toBe(4);
    // The pass resolved the incident (the playground resolves after one pass): it stays listed.
    await expect
      .poll(() => page.locator("[data-incident-history] li").first().getAttribute("data-state"), { timeout: 15_000 })
      .toBe("resolved");
    expect(await page.locator("[data-incident]").count()).toBe(0);
    expect(await page.locator("[data-incident-history] li").first().textContent()).toMatch(
      /resolved (just now|\d+ (s|min) ago) · lasted \d/,
    );
    expect(await page.locator('[data-uptime="24h"] dd[data-ratio]').textContent()).toBe("75%");
    await page.screenshot({ path: join(shots, "page-live.png"), fullPage: true });

    // A phone-sized view of the same page.
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${pg.base}/`);
    await phone.waitForSelector("section.monitor");
    await phone.screenshot({ path: join(shots, "page-phone.png"), fullPage: true });
    await phone.close();

    // Without JavaScript: the same verdict, timeline and charts, refreshed by a meta refresh.
    const noJs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1100, height: 900 } });
    await noJs.addCookies(await context.cookies());
    const plain = await noJs.newPage();
    await plain.goto(`${pg.base}/`);
    expect(await plain.locator(".verdict").getAttribute("data-verdict")).toBe("pass");
    expect(await plain.locator(".timeline details").count()).toBe(4);
    expect(await plain.locator('figure[data-chart="fill_latency"] svg').count()).toBe(1);
    expect(await plain.locator('meta[http-equiv="refresh"]').getAttribute("content")).toBe("30");
    expect(await plain.locator(".live").isVisible()).toBe(false);
    await noJs.close();

    // Sign out: the cookie is gone and the page is the sign-in form again.
    await page.click("header form[action='/signout'] button");
    await page.waitForSelector("form.signin");
    expect((await context.cookies()).find((c) => c.name === "fillwatch_session")).toBeUndefined();
    expect(await page.locator("section.monitor").count()).toBe(0);
    expect(errors).toEqual([]);
  }, 240_000);
});
