/**
 * Pod networking: one Linux bridge per host (default `weir0`, 10.88.0.1/16) and, per pod, a network
 * namespace joined to it by a veth pair. The pod's `eth0` gets its IP and a default route via the
 * bridge, so pods reach each other and the host (10.88.0.1), and the host reaches pods directly.
 */
import { existsSync } from "node:fs";
import { run, runIgnoring } from "./sh.js";

/** The bridge every pod on this host joins. */
export interface BridgeConfig {
  readonly name: string;
  /** The bridge's own address, the pods' gateway and the node's InternalIP. */
  readonly gateway: string;
  readonly prefixLength: number;
}

/** Names of one pod's network objects, derived from its uid. */
export interface PodNetNames {
  readonly netns: string;
  readonly hostVeth: string;
}

/** Network object names for a pod uid (interface names are limited to 15 characters). */
export function podNetNames(uid: string): PodNetNames {
  const id = uid.replace(/-/g, "").slice(0, 12);
  return { netns: `weir-${id}`, hostVeth: `wv${id}` };
}

/** Creates the bridge and its address if missing; safe to call from several agents. */
export async function ensureBridge(b: BridgeConfig): Promise<void> {
  await runIgnoring("ip", ["link", "add", b.name, "type", "bridge"], /File exists/);
  await runIgnoring("ip", ["addr", "add", `${b.gateway}/${b.prefixLength}`, "dev", b.name], /File exists|already assigned/);
  await run("ip", ["link", "set", b.name, "up"]);
}

/** Whether the pod's network namespace exists. */
export function netnsExists(netns: string): boolean {
  return existsSync(`/run/netns/${netns}`);
}

/** Creates the pod's namespace, veth pair and address; removes leftovers of an earlier attempt first. */
export async function createPodNetwork(b: BridgeConfig, n: PodNetNames, ip: string): Promise<void> {
  await deletePodNetwork(n);
  await run("ip", ["netns", "add", n.netns]);
  await run("ip", ["link", "add", n.hostVeth, "type", "veth", "peer", "name", "eth0", "netns", n.netns]);
  await run("ip", ["link", "set", n.hostVeth, "master", b.name, "up"]);
  const inNs = (...args: string[]) => run("ip", ["-n", n.netns, ...args]);
  await inNs("link", "set", "lo", "up");
  await inNs("addr", "add", `${ip}/${b.prefixLength}`, "dev", "eth0");
  await inNs("link", "set", "eth0", "up");
  await inNs("route", "add", "default", "via", b.gateway);
}

/** Deletes the pod's namespace and host veth; missing ones are fine. */
export async function deletePodNetwork(n: PodNetNames): Promise<void> {
  await runIgnoring("ip", ["link", "del", n.hostVeth], /Cannot find device|does not exist/);
  if (netnsExists(n.netns)) await runIgnoring("ip", ["netns", "del", n.netns], /No such file/);
}
