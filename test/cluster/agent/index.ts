/**
 * The Weir node agent: a process "kubelet" for the local test cluster. It registers a Node,
 * heartbeats through a Lease, and runs the pods bound to it as local processes, each in its own
 * network namespace (an IP on the `weir0` bridge) and mount namespace (volumes at their mountPath).
 *
 * ```ts
 * import { startNodeAgent } from "./test/cluster/agent/index.js";
 * const agent = await startNodeAgent({ kubeconfig: ".cluster/kubeconfig", nodeName: "weir-node-1", root: process.cwd() });
 * // ... pods scheduled to weir-node-1 run as processes ...
 * await agent.stop();            // kills its pods' processes; { keepPods: true } leaves them for a restarted agent
 * ```
 *
 * Or as a separate process (what the tests do, so it can be SIGKILLed and restarted):
 * `tsx test/cluster/agent/main.ts --kubeconfig .cluster/kubeconfig --node weir-node-1`, or
 * `spawnNodeAgent(...)` from `./spawn.js`.
 */
export { startNodeAgent, type NodeAgent } from "./internal/agent.js";
export type { NodeAgentOptions } from "./internal/config.js";
export { spawnNodeAgent, stopNodeAgent, type SpawnedAgent, type SpawnOptions } from "./spawn.js";
export { podLogDir } from "./logs.js";
