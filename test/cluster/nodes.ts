/**
 * The cluster's worker nodes: one node agent process per node (see agent/README.md), started after
 * the control plane and stopped before it. Two nodes, as in kind-config.yaml, so pods spread.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { spawnNodeAgent, stopNodeAgent, type SpawnedAgent } from "./agent/index.js";

export const NODE_NAMES = ["weir-node-1", "weir-node-2"] as const;

function agentDir(clusterDir: string, node: string): string {
  return join(clusterDir, "agent", node);
}

function running(stateDir: string): boolean {
  const file = join(stateDir, "agent.pid");
  if (!existsSync(file)) return false;
  try {
    process.kill(Number(readFileSync(file, "utf8")), 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Start the node agents that are not running yet. `detached` agents outlive this process
 * (`cluster:up`); the others are stopped with the returned handles (test runs).
 */
export async function startNodes(clusterDir: string, kubeconfig: string, opts: { detached: boolean; backoffBaseMs?: number }): Promise<SpawnedAgent[]> {
  const started: SpawnedAgent[] = [];
  for (const node of NODE_NAMES) {
    const stateDir = agentDir(clusterDir, node);
    if (running(stateDir)) continue;
    const args = ["--kubeconfig", kubeconfig, "--state-dir", stateDir, "--log-dir", join(clusterDir, "logs")];
    if (opts.backoffBaseMs !== undefined) args.push("--backoff-base-ms", String(opts.backoffBaseMs));
    started.push(await spawnNodeAgent(args, { node, detached: opts.detached, logFile: join(clusterDir, "logs", `agent-${node}.log`) }));
  }
  return started;
}

/** Stop every node agent of the cluster (their pods' processes end with them). */
export async function stopNodes(clusterDir: string): Promise<void> {
  await Promise.all(NODE_NAMES.map((node) => stopNodeAgent(agentDir(clusterDir, node))));
}
