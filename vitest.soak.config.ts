/**
 * Soak (b), run by `npm run soak` only (never by `npm test`): the real Worker and FillMonitor inside
 * workerd (@cloudflare/vitest-plugin) against the simulator at time_scale 0.1, with random faults,
 * evictions and hard crashes. Its global setup writes the traces for scripts/soak.ts.
 */
import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-plugin";

export default defineConfig({
  test: {
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
          name: "soak",
          include: ["test/soak/worker/**/*.soak.ts"],
          globalSetup: ["test/soak/worker/global-setup.ts"],
          testTimeout: 4 * 3600_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
