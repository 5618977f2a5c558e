/**
 * Pod IP allocation (pure). Each node owns one /24 of the agent bridge's /16: node `weir-node-3`
 * gets 10.88.3.0/24 by default; pods get .2 to .254 of it, lowest free first.
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

/** The lowest free address of `prefix.x` (x in 2..254), or an error when the subnet is full. */
export function allocateIP(prefix: string, used: ReadonlySet<string>): string {
  for (let x = 2; x <= 254; x++) {
    const ip = `${prefix}.${x}`;
    if (!used.has(ip)) return ip;
  }
  throw new Error(`no free pod IP left in ${prefix}.0/24 (${used.size} in use)`);
}
