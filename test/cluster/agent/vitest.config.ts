import { defineConfig } from "vitest/config";

// Unit tests of the node agent's pure parts; no cluster needed:
//   npx vitest run -c test/cluster/agent/vitest.config.ts
// The cluster suite (agent.it.test.ts) runs under vitest.cluster.config.ts (`npm run test:cluster`).
export default defineConfig({
  test: {
    root: new URL("../../..", import.meta.url).pathname,
    include: ["test/cluster/agent/**/*.test.ts"],
    exclude: ["test/cluster/agent/**/*.it.test.ts", "**/node_modules/**"],
    reporters: ["default"],
  },
});
