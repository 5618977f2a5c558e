import { defineConfig } from "vitest/config";

// `npm run test:cluster`: suites that need a real Kubernetes control plane (test/cluster/). The global setup
// builds the binaries when their go.mod/go.sum changed (a cold build takes many minutes), starts one cluster
// for the run and stops it after. Not part of `npm test` yet.
export default defineConfig({
  test: {
    include: ["test/cluster/**/*.test.ts"],
    globalSetup: ["test/cluster/global-setup.ts"],
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default"],
  },
});
