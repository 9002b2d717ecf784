/**
 * Two vitest projects in one run, merged into one JSON report (reports/vitest.json):
 * - `workers`: Worker + Durable Object tests inside workerd (@cloudflare/vitest-plugin), against
 *   the Node simulator started by test/workers/global-setup.ts.
 * - `node`: the Lighter library, the simulator, the CLI and other process-level tests.
 */
import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-plugin";

export default defineConfig({
  test: {
    reporters: ["default", "json"],
    // Three test files at a time on 2 cores: most workers files wait on the simulator's scaled
    // deadlines. Measured on this 2-core machine: 2 at a time 445 s, 3 at a time 375 s with no timing
    // failure; 4 at a time gave 24 timing failures.
    maxWorkers: 3,
    outputFile: { json: "reports/vitest.json" },
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            main: "./worker/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                MONITORS: inject("monitorsJson"),
                API_TOKEN: "test-api-token-0123456789",
                ...inject("secrets"),
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          globalSetup: ["test/workers/global-setup.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["test/**/*.test.ts"],
          exclude: ["test/workers/**", "**/node_modules/**"],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
