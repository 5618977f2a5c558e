import { describe, expect, it } from "vitest";
import type { V1Pod } from "@kubernetes/client-node";
import { expandVars, hostsFileContent, imageRoot, keyFiles, planContainer, referencedObjects, type PlanInputs } from "./internal/plan.js";

const pod = (containers: NonNullable<V1Pod["spec"]>["containers"], volumes: NonNullable<V1Pod["spec"]>["volumes"] = []): V1Pod => ({
  metadata: { name: "web-1", namespace: "demo", uid: "1234", labels: { app: "web" }, annotations: { note: "hi" } },
  spec: { containers, volumes, serviceAccountName: "runner" },
});

const inputs: PlanInputs = {
  podIP: "10.88.1.2", hostIP: "10.88.0.1", nodeName: "weir-node-1",
  images: { "*": "/repo", "tools": "/opt/tools" },
  configMaps: new Map([["settings", { LEVEL: "debug", MODE: "fast" }]]),
  secrets: new Map([["creds", { password: "s3cret" }]]),
  volumeDirs: new Map([["config", "/state/pods/1234/volumes/config"]]),
  apiserver: { host: "127.0.0.1", port: 6443 },
  baseEnv: { PATH: "/usr/bin" },
};

describe("planContainer", () => {
  it("runs command + args in the image root with the pod's environment", () => {
    const c = { name: "app", image: "weir:dev", command: ["node", "bin/weir.js"], args: ["run", "$(MODE)", "$$(MODE)"],
      env: [
        { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
        { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
        { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
        { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: "PW", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
        { name: "GREETING", value: "level=$(LEVEL)" },
      ],
      envFrom: [{ configMapRef: { name: "settings" }, prefix: "CFG_" }, { configMapRef: { name: "settings" } }],
    };
    const r = planContainer(pod([c]), c, inputs);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.root).toBe("/repo");
    expect(r.plan.cwd).toBe("/repo");
    expect(r.plan.argv).toEqual(["node", "bin/weir.js", "run", "fast", "$(MODE)"]);
    expect(r.plan.env).toMatchObject({
      POD: "web-1", NS: "demo", IP: "10.88.1.2", NODE: "weir-node-1", APP: "web", PW: "s3cret", GREETING: "level=debug",
      CFG_LEVEL: "debug", LEVEL: "debug", PATH: "/usr/bin", HOSTNAME: "web-1",
      KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: "6443",
    });
  });

  it("maps volumeMounts to bind mounts and honours workingDir", () => {
    const c = { name: "app", image: "tools:1.2", command: ["ls"], workingDir: "/work", volumeMounts: [{ name: "config", mountPath: "/etc/app", readOnly: true }, { name: "config", mountPath: "/etc/one", subPath: "a.yaml" }] };
    const r = planContainer(pod([c]), c, inputs);
    expect(r.ok && r.plan).toMatchObject({ root: "/opt/tools", cwd: "/work", mounts: [
      { hostPath: "/state/pods/1234/volumes/config", mountPath: "/etc/app", readOnly: true },
      { hostPath: "/state/pods/1234/volumes/config/a.yaml", mountPath: "/etc/one", readOnly: false },
    ] });
  });

  it("gives the container the pod's hostname and an /etc/hosts naming it, except with hostNetwork", () => {
    const c = { name: "app", image: "x", command: ["true"] };
    const r = planContainer(pod([c]), c, { ...inputs, hostsFile: "/state/hosts" });
    expect(r.ok && r.plan.hostname).toBe("web-1");
    expect(r.ok && r.plan.mounts).toEqual([{ hostPath: "/state/hosts", mountPath: "/etc/hosts", readOnly: true }]);
    expect(hostsFileContent(pod([c]), "10.88.1.2")).toContain("10.88.1.2\tweb-1\n");
    const h = pod([c]);
    h.spec!.hostNetwork = true;
    const rh = planContainer(h, c, { ...inputs, hostsFile: "/state/hosts" });
    expect(rh.ok && rh.plan).toMatchObject({ mounts: [] });
    expect(rh.ok && rh.plan.hostname).toBeUndefined();
  });

  it("reports a missing ConfigMap key as CreateContainerConfigError naming it", () => {
    const c = { name: "app", image: "x", command: ["true"], env: [{ name: "A", valueFrom: { configMapKeyRef: { name: "settings", key: "NOPE" } } }] };
    expect(planContainer(pod([c]), c, inputs)).toEqual({ ok: false, reason: "CreateContainerConfigError", message: "couldn't find key NOPE in configmap demo/settings" });
  });

  it("skips optional references that are missing", () => {
    const c = { name: "app", image: "x", command: ["true"], env: [{ name: "A", valueFrom: { secretKeyRef: { name: "gone", key: "k", optional: true } } }], envFrom: [{ secretRef: { name: "gone", optional: true } }] };
    const r = planContainer(pod([c]), c, inputs);
    expect(r.ok && r.plan.env["A"]).toBeUndefined();
  });

  it("rejects a container with neither command nor args", () => {
    const c = { name: "app", image: "x" };
    expect(planContainer(pod([c]), c, inputs)).toMatchObject({ ok: false, message: expect.stringContaining("no command") });
  });

  it("rejects an undeclared volume mount", () => {
    const c = { name: "app", image: "x", command: ["true"], volumeMounts: [{ name: "data", mountPath: "/data" }] };
    expect(planContainer(pod([c]), c, inputs)).toMatchObject({ ok: false, message: expect.stringContaining("volumeMount data") });
  });
});

describe("helpers", () => {
  it("maps images with and without tags, falling back to *", () => {
    expect(imageRoot("tools:1.2", inputs.images)).toBe("/opt/tools");
    expect(imageRoot("registry.local:5000/weir:dev", inputs.images)).toBe("/repo");
    expect(() => imageRoot("x", {})).toThrow(/maps to no local root/);
  });
  it("expands $(VAR) and $$", () => {
    expect(expandVars("$(A)-$(B)-$$(A)", { A: "1" })).toBe("1-$(B)-$(A)");
  });
  it("selects and renames keys with items", () => {
    expect(keyFiles({ a: "1", b: "2" }, undefined)).toEqual([{ path: "a", content: "1" }, { path: "b", content: "2" }]);
    expect(keyFiles({ a: "1", b: "2" }, [{ key: "b", path: "dir/b.txt" }])).toEqual([{ path: "dir/b.txt", content: "2" }]);
  });
  it("lists the ConfigMaps and Secrets a pod refers to", () => {
    const p = pod([{ name: "c", env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cm1", key: "k" } } }], envFrom: [{ secretRef: { name: "s1" } }] }],
      [{ name: "v", configMap: { name: "cm2" } }, { name: "w", projected: { sources: [{ secret: { name: "s2" } }] } }]);
    const r = referencedObjects(p);
    expect([...r.configMaps].sort()).toEqual(["cm1", "cm2"]);
    expect([...r.secrets].sort()).toEqual(["s1", "s2"]);
  });
});
