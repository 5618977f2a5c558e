/** Well-known locations of the local test cluster. Everything lives under <repo>/.cluster/ (git-ignored). */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");
export const CLUSTER_DIR = process.env.WEIR_CLUSTER_DIR ?? join(REPO_ROOT, ".cluster");
export const BIN_DIR = process.env.WEIR_CLUSTER_BIN_DIR ?? join(REPO_ROOT, ".cluster", "bin");
export const LOG_DIR = join(CLUSTER_DIR, "logs");
export const PKI_DIR = join(CLUSTER_DIR, "pki");
export const DATA_DIR = join(CLUSTER_DIR, "data");
export const STATE_FILE = join(CLUSTER_DIR, "state.json");
export const KUBECONFIG = join(CLUSTER_DIR, "kubeconfig");

export function bin(name: string): string {
  return join(BIN_DIR, name);
}
