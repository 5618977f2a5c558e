import { describe, expect, it } from "vitest";
import { allocateIP, nodeSubnetIndex } from "./internal/ipam.js";

describe("pod IPs", () => {
  it("gives each node the /24 of its trailing number", () => {
    expect(nodeSubnetIndex("weir-node-1")).toBe(1);
    expect(nodeSubnetIndex("weir-node-12")).toBe(12);
  });
  it("hashes names without a usable number into 1..254", () => {
    for (const n of ["worker", "weir-node-0", "weir-node-999"]) {
      const i = nodeSubnetIndex(n);
      expect(i).toBeGreaterThanOrEqual(1);
      expect(i).toBeLessThanOrEqual(254);
    }
  });
  it("allocates from .2, then the next free address after the last one, wrapping around", () => {
    expect(allocateIP("10.88.1", new Set())).toEqual({ ip: "10.88.1.2", octet: 2 });
    expect(allocateIP("10.88.1", new Set(["10.88.1.2", "10.88.1.4"]))).toEqual({ ip: "10.88.1.3", octet: 3 });
    // .3 was just freed: not reused until the subnet wraps around
    expect(allocateIP("10.88.1", new Set(["10.88.1.2"]), 3).ip).toBe("10.88.1.4");
    expect(allocateIP("10.88.1", new Set(["10.88.1.2"]), 254).ip).toBe("10.88.1.3");
  });
  it("says when the subnet is full", () => {
    const all = new Set(Array.from({ length: 253 }, (_, i) => `10.88.1.${i + 2}`));
    expect(() => allocateIP("10.88.1", all)).toThrow(/no free pod IP left in 10.88.1.0\/24/);
  });
});
