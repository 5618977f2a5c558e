import { defineConfig } from "vitest/config";

// Integration suites start real processes; they run in forks, a few at a time, with generous timeouts.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The local Kubernetes suites run next, with their own config and cluster: `npm run test:cluster`.
    exclude: ["test/cluster/**", "**/node_modules/**"],
    // Builds the S3 server the checkpoint storage suites run against (minutes when cold, then cached).
    globalSetup: ["test/support/global-setup.ts"],
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ["default"],
  },
});
