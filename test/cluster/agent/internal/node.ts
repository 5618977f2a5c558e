/**
 * The Node object and its heartbeat: registration, a Lease in `kube-node-lease` renewed every
 * `leaseRenewMs`, and the node status (Ready condition, capacity, addresses) re-patched every
 * `statusEveryMs`.
 */
import os from "node:os";
import type { V1Node } from "@kubernetes/client-node";
import { MERGE_PATCH, statusOf, type Kube } from "./kube.js";

/** What the node reports about itself. */
export interface NodeIdentity {
  readonly name: string;
  readonly internalIP: string;
  readonly capacity: { readonly cpu: string; readonly memory: string; readonly pods: string };
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: ReadonlyArray<{ key: string; value?: string; effect: string }>;
}

/** Kubelet version string reported in nodeInfo. */
export const AGENT_VERSION = "v1.36.3-weir-agent";

/** The node's capacity from the host: all CPUs, all memory, `pods` pods. */
export function hostCapacity(pods: number): NodeIdentity["capacity"] {
  return { cpu: String(os.cpus().length), memory: `${Math.floor(os.totalmem() / 1024)}Ki`, pods: String(pods) };
}

/** The node status body (pure). */
export function nodeStatus(id: NodeIdentity, now: Date): Record<string, unknown> {
  const t = now.toISOString();
  const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: t, lastTransitionTime: t });
  return {
    capacity: id.capacity,
    allocatable: id.capacity,
    conditions: [
      cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "weir node agent has sufficient memory available"),
      cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "weir node agent has no disk pressure"),
      cond("PIDPressure", "False", "KubeletHasSufficientPID", "weir node agent has sufficient PID available"),
      cond("Ready", "True", "KubeletReady", "weir node agent is posting ready status"),
    ],
    addresses: [{ type: "InternalIP", address: id.internalIP }, { type: "Hostname", address: id.name }],
    daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
    nodeInfo: {
      machineID: id.name, systemUUID: id.name, bootID: "", kernelVersion: os.release(), osImage: "weir local processes",
      containerRuntimeVersion: "weir-process://1", kubeletVersion: AGENT_VERSION, kubeProxyVersion: "", operatingSystem: "linux", architecture: "amd64",
    },
  };
}

/** Creates the Node if missing and patches its status; resolves with the Node's uid. */
export async function registerNode(k: Kube, id: NodeIdentity): Promise<string> {
  const labels = { "kubernetes.io/hostname": id.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", ...id.labels };
  let node: V1Node;
  try {
    node = await k.core.createNode({ body: { metadata: { name: id.name, labels }, spec: { taints: [...id.taints] } } });
  } catch (err) {
    if (statusOf(err) !== 409) throw err;
    node = await k.core.patchNode({ name: id.name, body: { metadata: { labels }, spec: { taints: [...id.taints] } } }, MERGE_PATCH);
  }
  await patchNodeStatus(k, id);
  return node.metadata!.uid!;
}

/** Patches the node status with a fresh heartbeat. */
export async function patchNodeStatus(k: Kube, id: NodeIdentity): Promise<void> {
  await k.core.patchNodeStatus({ name: id.name, body: { status: nodeStatus(id, new Date()) } }, MERGE_PATCH);
}

const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

/** Creates or renews the node's Lease in kube-node-lease. */
export async function renewLease(k: Kube, nodeName: string, nodeUid: string, durationSeconds: number): Promise<void> {
  const namespace = "kube-node-lease";
  const spec = { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: microTime(new Date()) };
  try {
    await k.coord.patchNamespacedLease({ name: nodeName, namespace, body: { spec } }, MERGE_PATCH);
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
    await k.coord.createNamespacedLease({
      namespace,
      body: {
        metadata: { name: nodeName, namespace, ownerReferences: [{ apiVersion: "v1", kind: "Node", name: nodeName, uid: nodeUid }] },
        spec: spec as never,
      },
    });
  }
}
