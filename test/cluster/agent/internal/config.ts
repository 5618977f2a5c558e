/** Agent options -> defaults applied -> validated -> a frozen config. */
import { join } from "node:path";
import { KUBELET_BACKOFF, type BackoffConfig } from "./backoff.js";
import { nodeSubnetIndex } from "./ipam.js";
import type { BridgeConfig } from "./netns.js";

/** Options of `startNodeAgent`; only `kubeconfig`, `nodeName` and `root` are required. */
export interface NodeAgentOptions {
  /** Path of an admin kubeconfig. */
  kubeconfig: string;
  /** Node name, e.g. `weir-node-1`; its trailing number picks the pod subnet 10.88.<n>.0/24. */
  nodeName: string;
  /** Local root directory every image maps to (default: the repository checkout). */
  root: string;
  /** Where the agent keeps its state file and volumes (default `<root>/.cluster/agent/<node>`). */
  stateDir?: string;
  /** Where pod logs go: `<logDir>/pods/<ns>_<pod>_<uid>/<container>.log` (default `<root>/.cluster/logs`). */
  logDir?: string;
  /** Image name (with or without tag) -> root directory; overrides `root` for those images. */
  images?: Record<string, string>;
  /** Restart back-off base (default 10 s, as the kubelet); tests use ~1 s. */
  backoffBaseMs?: number;
  /** Back-off cap (default 5 min). */
  backoffCapMs?: number;
  /** Extra node labels. */
  labels?: Record<string, string>;
  /** Node taints, e.g. `[{ key: "weir.dev/test", value: "true", effect: "NoSchedule" }]`. */
  taints?: Array<{ key: string; value?: string; effect: string }>;
  /** Pods the node admits (capacity), default 110. */
  maxPods?: number;
  /** Bridge name, default `weir0`. */
  bridge?: string;
  /** Third octet of the pod subnet 10.88.<n>.0/24 (default from the node name). */
  subnetIndex?: number;
  /** How often pods are synced (probes, restarts, status), default 500 ms. */
  syncEveryMs?: number;
  /** Lease renewal period, default 10 s (lease duration 40 s). */
  leaseRenewMs?: number;
  /** Log lines go here (default: console.error with a prefix). */
  log?: (line: string) => void;
}

/** The validated, fully defaulted configuration. */
export interface AgentConfig {
  readonly kubeconfig: string;
  readonly nodeName: string;
  readonly stateDir: string;
  readonly logDir: string;
  readonly images: Readonly<Record<string, string>>;
  readonly backoff: BackoffConfig;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: ReadonlyArray<{ key: string; value?: string; effect: string }>;
  readonly maxPods: number;
  readonly bridge: BridgeConfig;
  readonly podPrefix: string;
  readonly syncEveryMs: number;
  readonly leaseRenewMs: number;
  readonly statusEveryMs: number;
  readonly log: (line: string) => void;
}

/** Applies defaults and validates; throws naming the bad option. */
export function compileConfig(o: NodeAgentOptions): AgentConfig {
  if (!o.kubeconfig) throw new Error("node agent: option kubeconfig is required");
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o.nodeName ?? "")) throw new Error(`node agent: nodeName "${o.nodeName}" is not a valid DNS name`);
  if (!o.root) throw new Error("node agent: option root is required");
  const subnet = o.subnetIndex ?? nodeSubnetIndex(o.nodeName);
  if (!(subnet >= 1 && subnet <= 254)) throw new Error(`node agent: subnetIndex ${subnet} is outside 1..254`);
  const baseMs = o.backoffBaseMs ?? KUBELET_BACKOFF.baseMs;
  return Object.freeze({
    kubeconfig: o.kubeconfig,
    nodeName: o.nodeName,
    stateDir: o.stateDir ?? join(o.root, ".cluster", "agent", o.nodeName),
    logDir: o.logDir ?? join(o.root, ".cluster", "logs"),
    images: Object.freeze({ ...(o.images ?? {}), "*": o.images?.["*"] ?? o.root }),
    backoff: Object.freeze({ ...KUBELET_BACKOFF, baseMs, capMs: o.backoffCapMs ?? Math.max(KUBELET_BACKOFF.capMs * (baseMs / KUBELET_BACKOFF.baseMs), baseMs) }),
    labels: Object.freeze({ ...(o.labels ?? {}) }),
    taints: Object.freeze([...(o.taints ?? [])]),
    maxPods: o.maxPods ?? 110,
    bridge: Object.freeze({ name: o.bridge ?? "weir0", gateway: "10.88.0.1", prefixLength: 16 }),
    podPrefix: `10.88.${subnet}`,
    syncEveryMs: o.syncEveryMs ?? 500,
    leaseRenewMs: o.leaseRenewMs ?? 10_000,
    statusEveryMs: 60_000,
    log: o.log ?? ((line: string) => console.error(`${new Date().toISOString()} [agent ${o.nodeName}] ${line}`)),
  });
}
