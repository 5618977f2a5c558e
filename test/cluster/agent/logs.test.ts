import { mkdirSync, mkdtempSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { podLogDir } from "./logs.js";

describe("podLogDir", () => {
  it("finds the newest directory of a pod by namespace and name, not by prefix", () => {
    const root = mkdtempSync(join(tmpdir(), "weir-logs-"));
    const uid = (n: number) => `00000000-0000-0000-0000-00000000000${n}`;
    for (const d of [`demo_web_${uid(1)}`, `demo_web_${uid(2)}`, `demo_web-2_${uid(3)}`]) mkdirSync(join(root, "pods", d), { recursive: true });
    utimesSync(join(root, "pods", `demo_web_${uid(1)}`), new Date(1000), new Date(1000));
    expect(podLogDir(root, "demo", "web")).toBe(join(root, "pods", `demo_web_${uid(2)}`));
    expect(podLogDir(root, "demo", "web-2")).toBe(join(root, "pods", `demo_web-2_${uid(3)}`));
    expect(podLogDir(root, "demo", "nope")).toBeUndefined();
    expect(podLogDir(join(root, "missing"), "demo", "web")).toBeUndefined();
  });
});
