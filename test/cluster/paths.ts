/** Well-known locations of the local test cluster. Everything lives under <repo>/.cluster/ (git-ignored). */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");
/** Binaries are shared by every cluster directory (a checkout builds them once). */
export const BIN_DIR = process.env.WEIR_CLUSTER_BIN_DIR ?? join(REPO_ROOT, ".cluster", "bin");
/** The cluster `npm run cluster:up` manages; override with WEIR_CLUSTER_DIR. */
export const DEFAULT_CLUSTER_DIR = process.env.WEIR_CLUSTER_DIR ?? join(REPO_ROOT, ".cluster");

export interface ClusterPaths {
  dir: string;
  logs: string;
  pki: string;
  data: string;
  state: string;
  kubeconfig: string;
}

export function clusterPaths(dir: string = DEFAULT_CLUSTER_DIR): ClusterPaths {
  return {
    dir,
    logs: join(dir, "logs"),
    pki: join(dir, "pki"),
    data: join(dir, "data"),
    state: join(dir, "state.json"),
    kubeconfig: join(dir, "kubeconfig"),
  };
}

export function bin(name: string): string {
  return join(BIN_DIR, name);
}
