/**
 * vitest globalSetup for `npm run test:cluster`: builds the binaries if go.mod/go.sum changed, starts one
 * cluster for the whole run in .cluster/test/ (beside, never instead of, a developer's `npm run cluster:up`
 * cluster in .cluster/), exports its kubeconfig and stops it afterwards.
 *
 * Exported to the test processes: KUBECONFIG and WEIR_TEST_KUBECONFIG (admin kubeconfig), WEIR_TEST_CLUSTER_DIR.
 * If WEIR_TEST_KUBECONFIG is already set, that cluster is used as is and left running.
 */
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startCluster, stopCluster } from "./cluster.js";
import { NODE_NAMES, startNodes } from "./nodes.js";
import { REPO_ROOT } from "./paths.js";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfig: string;
  }
}

const log = (l: string) => process.stderr.write(l + "\n");

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const external = process.env.WEIR_TEST_KUBECONFIG;
  if (external) {
    log(`[cluster] using the existing cluster of WEIR_TEST_KUBECONFIG=${external}`);
    process.env.KUBECONFIG = external;
    project.provide("kubeconfig", external);
    return;
  }
  const dir = process.env.WEIR_TEST_CLUSTER_DIR ?? join(REPO_ROOT, ".cluster", "test");
  const t0 = Date.now();
  const state = await startCluster(dir, { log });
  log(`[cluster] test cluster up after ${((Date.now() - t0) / 1000).toFixed(1)} s (build check included)`);
  process.env.KUBECONFIG = state.kubeconfig;
  process.env.WEIR_TEST_KUBECONFIG = state.kubeconfig;
  process.env.WEIR_TEST_CLUSTER_DIR = dir;
  project.provide("kubeconfig", state.kubeconfig);
  const keep = Boolean(process.env.WEIR_TEST_KEEP_CLUSTER);
  const agents = await startNodes(dir, state.kubeconfig, { detached: keep, backoffBaseMs: 1_000 });
  log(`[cluster] nodes ${NODE_NAMES.join(", ")} ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return async () => {
    if (keep) {
      log(`[cluster] WEIR_TEST_KEEP_CLUSTER set: leaving the test cluster running (${dir})`);
      return;
    }
    await Promise.all(agents.map((a) => a.stop()));
    await stopCluster(dir, { log });
  };
}
