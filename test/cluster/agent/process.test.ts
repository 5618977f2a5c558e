import { describe, expect, it } from "vitest";
import { containerArgv, mountScript } from "./internal/process.js";
import { parseArgs } from "./main.js";
import { podNetNames } from "./internal/netns.js";
import { compileConfig } from "./internal/config.js";

describe("container command line", () => {
  const plan = { name: "app", image: "weir", root: "/repo", argv: ["node", "-e", "console.log('hi')"], env: {}, cwd: "/repo",
    mounts: [{ hostPath: "/s/vol it's", mountPath: "/etc/app", readOnly: true }] };
  it("enters the pod netns, a private mount namespace, mounts, cds and execs argv", () => {
    const argv = containerArgv(plan, "weir-abc");
    expect(argv.slice(0, 8)).toEqual(["nsenter", "--net=/run/netns/weir-abc", "--", "unshare", "--mount", "--propagation", "private", "--"]);
    expect(argv.slice(-4)).toEqual(["sh", "node", "-e", "console.log('hi')"]);
    expect(argv[10]).toContain(`cd '/repo'\nexec "$@"`);
  });
  it("sets the hostname in its own UTS namespace", () => {
    const argv = containerArgv({ ...plan, hostname: "web-1" }, "weir-abc");
    expect(argv.slice(3, 9)).toEqual(["unshare", "--mount", "--uts", "--propagation", "private", "--"]);
    expect(argv[11]).toContain("hostname 'web-1'\n");
  });
  it("stays in the host network for hostNetwork pods", () => {
    expect(containerArgv(plan, undefined).slice(0, 4)).toEqual(["unshare", "--mount", "--propagation", "private"]);
  });
  it("bind-mounts read-only volumes and quotes paths", () => {
    const s = mountScript(plan.mounts);
    expect(s).toContain(`mount --bind '/s/vol it'\\''s' '/etc/app'; mount -o remount,bind,ro '/etc/app'`);
  });
});

describe("names and options", () => {
  it("derives netns and veth names within the 15-character limit", () => {
    const n = podNetNames("0f8e2c1a-3b4d-4e5f-8a9b-123456789abc");
    expect(n).toEqual({ netns: "weir-0f8e2c1a3b4d", hostVeth: "wv0f8e2c1a3b4d" });
    expect(n.hostVeth.length).toBeLessThanOrEqual(15);
  });
  it("parses the CLI flags", () => {
    const o = parseArgs(["--kubeconfig", "/k", "--node", "weir-node-2", "--backoff-base-ms", "500", "--image", "tools=/opt/tools", "--keep-pods"]);
    expect(o).toMatchObject({ kubeconfig: "/k", nodeName: "weir-node-2", backoffBaseMs: 500, images: { tools: "/opt/tools" }, keepPods: true });
    expect(() => parseArgs(["--nope"])).toThrow(/unknown flag --nope/);
    expect(parseArgs(["--taint", "weir.dev/test=true:NoSchedule", "--taint", "x:NoExecute"]).taints).toEqual([
      { key: "weir.dev/test", value: "true", effect: "NoSchedule" }, { key: "x", effect: "NoExecute" }]);
    expect(() => parseArgs(["--taint", "x=y"])).toThrow(/--taint expects/);
  });
  it("compiles defaults: subnet from the node name, scaled back-off cap", () => {
    const c = compileConfig({ kubeconfig: "/k", nodeName: "weir-node-3", root: "/repo", backoffBaseMs: 1000 });
    expect(c).toMatchObject({ podPrefix: "10.88.3", stateDir: "/repo/.cluster/agent/weir-node-3", logDir: "/repo/.cluster/logs", images: { "*": "/repo" } });
    expect(c.backoff).toMatchObject({ baseMs: 1000, capMs: 30_000 });
    expect(() => compileConfig({ kubeconfig: "/k", nodeName: "Bad_Name", root: "/r" })).toThrow(/nodeName "Bad_Name"/);
  });
});
