/**
 * Pod IP allocation (pure). Each node owns one /24 of the agent bridge's /16: node `weir-node-3`
 * gets 10.88.3.0/24 by default; pods get .2 to .254 of it, the next free one after the last allocated
 * (as CNI host-local IPAM does). Reusing a just-freed address at once would leave other pods' neighbour
 * (ARP) caches pointing at the old pod's MAC for half a minute: its successor would be unreachable.
 */

/** The /24 a node allocates from: the trailing number of its name (1..254), else a hash of it. */
export function nodeSubnetIndex(nodeName: string): number {
  const m = /(\d+)$/.exec(nodeName);
  if (m) {
    const n = Number(m[1]);
    if (n >= 1 && n <= 254) return n;
  }
  let h = 0;
  for (const ch of nodeName) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return 1 + (h % 254);
}

/**
 * The first free address of `prefix.x` (x in 2..254) after `.last` (wrapping around), or an error when
 * the subnet is full. Returns the address and its last octet (the next `last`).
 */
export function allocateIP(prefix: string, used: ReadonlySet<string>, last = 1): { ip: string; octet: number } {
  for (let i = 1; i <= 253; i++) {
    const x = 2 + ((last - 2 + i + 253) % 253);
    const ip = `${prefix}.${x}`;
    if (!used.has(ip)) return { ip, octet: x };
  }
  throw new Error(`no free pod IP left in ${prefix}.0/24 (${used.size} in use)`);
}
