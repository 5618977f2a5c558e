// kube-controller-manager: the garbage collector follows ownerReferences, the deployment controller makes
// ReplicaSets, the namespace controller finalizes deleted namespaces. No nodes or pods involved.
import { afterAll, beforeAll, expect, it } from "vitest";
import { adminConfig, createNamespace, deleteNamespace, describeCluster, eventually, k8s, statusOf } from "./support.js";

describeCluster("garbage collection and controllers", () => {
  const kc = adminConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  let ns = "";

  const ownedBy = (owner: { apiVersion: string; kind: string; metadata?: k8s.V1ObjectMeta }) => [{
    apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata!.name!, uid: owner.metadata!.uid!,
  }];
  const gone = (p: Promise<unknown>) => statusOf(p).then((s) => s === 404);

  beforeAll(async () => {
    ns = await createNamespace(kc, "gc");
  });
  afterAll(async () => {
    await deleteNamespace(kc, ns);
  });

  it("deletes a ConfigMap whose owner ConfigMap was deleted", async () => {
    const owner = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "owner" }, data: { a: "1" } } });
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "dependent", ownerReferences: ownedBy({ apiVersion: "v1", kind: "ConfigMap", metadata: owner.metadata }) } },
    });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "bystander" } } });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: "owner" }); // default: background propagation
    await eventually("dependent ConfigMap collected", () => gone(core.readNamespacedConfigMap({ namespace: ns, name: "dependent" })));
    expect(await statusOf(core.readNamespacedConfigMap({ namespace: ns, name: "bystander" }))).toBe(200);
  });

  it("deletes a Deployment's ReplicaSet and a ConfigMap it owns (foreground deletion)", async () => {
    const dep = await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: "web" },
        spec: {
          replicas: 0, // no pods: only the Deployment -> ReplicaSet chain
          selector: { matchLabels: { app: "web" } },
          template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "weir" }] } },
        },
      },
    });
    const rs = await eventually("the deployment controller creates a ReplicaSet", async () => {
      const list = await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: "app=web" });
      return list.items.find((r) => r.metadata?.ownerReferences?.some((o) => o.uid === dep.metadata?.uid));
    });
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "web-config", ownerReferences: ownedBy({ apiVersion: "apps/v1", kind: "Deployment", metadata: dep.metadata }) } },
    });
    await apps.deleteNamespacedDeployment({ namespace: ns, name: "web", body: { propagationPolicy: "Foreground" } });
    await eventually("ConfigMap collected", () => gone(core.readNamespacedConfigMap({ namespace: ns, name: "web-config" })));
    await eventually("ReplicaSet collected", () => gone(apps.readNamespacedReplicaSet({ namespace: ns, name: rs.metadata!.name! })));
    await eventually("Deployment gone after its dependents", () => gone(apps.readNamespacedDeployment({ namespace: ns, name: "web" })));
  });

  it("orphans dependents when asked to", async () => {
    const owner = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "owner2" } } });
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "orphan", ownerReferences: ownedBy({ apiVersion: "v1", kind: "ConfigMap", metadata: owner.metadata }) } },
    });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: "owner2", body: { propagationPolicy: "Orphan" } });
    const orphan = await eventually("ownerReference removed", async () => {
      const cm = await core.readNamespacedConfigMap({ namespace: ns, name: "orphan" });
      return (cm.metadata?.ownerReferences ?? []).length === 0 ? cm : undefined;
    });
    expect(orphan.metadata?.name).toBe("orphan");
  });

  it("the namespace controller finalizes a deleted namespace", async () => {
    const tmp = await createNamespace(kc, "gc-ns");
    await core.createNamespacedConfigMap({ namespace: tmp, body: { metadata: { name: "inside" } } });
    await core.deleteNamespace({ name: tmp });
    await eventually("namespace removed", () => gone(core.readNamespace({ name: tmp })), 45_000);
  });
});
