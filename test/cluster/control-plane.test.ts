// The control plane itself: versions, health, the components' identities, kubectl against it.
import { expect, it } from "vitest";
import { adminConfig, describeCluster, k8s, runBin } from "./support.js";

describeCluster("control plane", () => {
  const kc = adminConfig();

  it("reports the version it was built as", async () => {
    const v = await kc.makeApiClient(k8s.VersionApi).getCode();
    expect(v.gitVersion).toMatch(/^v1\.36\.\d+$/);
    expect(v.major).toBe("1");
    const out = JSON.parse((await runBin("kubectl", ["version", "-o", "json"])).stdout) as {
      clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string };
    };
    expect(out.clientVersion.gitVersion).toBe(v.gitVersion);
    expect(out.serverVersion.gitVersion).toBe(v.gitVersion);
  });

  it("is ready, with the admin user in system:masters", async () => {
    expect((await runBin("kubectl", ["get", "--raw", "/readyz"])).stdout.trim()).toBe("ok");
    expect((await runBin("kubectl", ["auth", "can-i", "*", "*", "--all-namespaces"])).stdout.trim()).toBe("yes");
    const who = JSON.parse((await runBin("kubectl", ["auth", "whoami", "-o", "json"])).stdout) as { status: { userInfo: { groups: string[] } } };
    expect(who.status.userInfo.groups).toContain("system:masters");
  });

  it("serves the kubernetes Service at 10.0.0.1 and the kube-root-ca.crt ConfigMap", async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const svc = await core.readNamespacedService({ namespace: "default", name: "kubernetes" });
    expect(svc.spec?.clusterIP).toBe("10.0.0.1");
    const ca = await core.readNamespacedConfigMap({ namespace: "default", name: "kube-root-ca.crt" });
    expect(ca.data?.["ca.crt"]).toContain("BEGIN CERTIFICATE");
  });

  it("runs the controllers as their own ServiceAccounts", async () => {
    const sas = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedServiceAccount({ namespace: "kube-system" });
    const names = sas.items.map((s) => s.metadata?.name);
    for (const c of ["generic-garbage-collector", "deployment-controller", "replicaset-controller", "statefulset-controller",
      "namespace-controller", "endpointslice-controller", "node-controller"]) {
      expect(names).toContain(c);
    }
  });
});
