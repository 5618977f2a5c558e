// The operator's writes on a real kube-apiserver: a StreamJob's desired objects server-side applied
// (idempotent, owned by the StreamJob, updated in place when the spec changes, garbage-collected with
// it) and its status written through the status subresource.
import { afterAll, beforeAll, expect, it } from "vitest";
import { API_VERSION, GROUP, KIND, PLURAL, VERSION, type StreamJob } from "../../operator/api/index.js";
import { applyAll, patchStatus } from "../../operator/controller/apply.js";
import { desiredObjects } from "../../operator/reconcile/desired-objects.js";
import { adminConfig, createNamespace, deleteNamespace, describeCluster, ensureStreamJobCrd, eventually, k8s } from "./support.js";


describeCluster("operator writes", () => {
  const kc = adminConfig();
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  let ns = "";

  beforeAll(async () => {
    await ensureStreamJobCrd();
    ns = await createNamespace(kc, "apply");
  });

  afterAll(async () => {
    await deleteNamespace(kc, ns);
  });

  const read = (name: string) => custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, name }) as Promise<StreamJob>;

  it("applies a StreamJob's objects idempotently, updates them in place, writes status, and they go with it", async () => {
    const body = { apiVersion: API_VERSION, kind: KIND, metadata: { name: "wc", namespace: ns }, spec: { job: { module: "/opt/weir/examples/wordcount.ts", parallelism: 2 } } };
    await eventually("StreamJob accepted", () => custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, body }));
    const job = await read("wc");
    // Replicas 0 keep the node agents from starting processes for this test's objects.
    const scaledDown = (o: ReturnType<typeof desiredObjects>) => {
      for (const d of [o.jobManager, o.taskManager]) if (d) d.spec!.replicas = 0;
      return [o.configMap, o.jobManager, o.jobManagerService, ...(o.taskManager ? [o.taskManager] : [])];
    };
    const opts = { defaultImage: "weir:test", startFrom: null };
    await applyAll(objects, scaledDown(desiredObjects(job, { jobManagerIp: "10.88.0.99" }, opts)));
    const tm1 = await apps.readNamespacedDeployment({ name: "wc-taskmanager", namespace: ns });
    expect(tm1.metadata!.ownerReferences![0]).toMatchObject({ kind: "StreamJob", name: "wc", uid: job.metadata.uid, controller: true });
    expect(tm1.spec!.template.spec!.containers[0]!.args).toContain("10.88.0.99:6123");

    // Applying the same objects again changes nothing.
    await applyAll(objects, scaledDown(desiredObjects(job, { jobManagerIp: "10.88.0.99" }, opts)));
    const tm2 = await apps.readNamespacedDeployment({ name: "wc-taskmanager", namespace: ns });
    expect(tm2.metadata!.generation).toBe(tm1.metadata!.generation);

    // A changed spec updates the same objects in place.
    job.spec.job.args = ["--lines", "5"];
    job.spec.stateBackend = "rocksdb";
    await applyAll(objects, scaledDown(desiredObjects(job, { jobManagerIp: "10.88.0.99" }, opts)));
    const jm = await apps.readNamespacedDeployment({ name: "wc-jobmanager", namespace: ns });
    expect(jm.spec!.template.spec!.containers[0]!.args!.slice(-2)).toEqual(["--lines", "5"]);
    const cm = await core.readNamespacedConfigMap({ name: "wc-config", namespace: ns });
    expect(cm.data!.WEIR_CONFIG_STATE_BACKEND).toBe("rocksdb");

    // Status goes through the subresource: the spec is untouched.
    await patchStatus(custom, job, { lifecycleState: "DEPLOYED", observedGeneration: job.metadata.generation! });
    const withStatus = await read("wc");
    expect(withStatus.status?.lifecycleState).toBe("DEPLOYED");
    expect(withStatus.spec.job.args).toBeUndefined();

    // Deleting the StreamJob garbage-collects everything it owns.
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, name: "wc" });
    await eventually("owned objects collected", async () => {
      const [deps, cms, svcs] = await Promise.all([
        apps.listNamespacedDeployment({ namespace: ns }),
        core.listNamespacedConfigMap({ namespace: ns }),
        core.listNamespacedService({ namespace: ns }),
      ]);
      return deps.items.length === 0 && !cms.items.some((c) => c.metadata!.name === "wc-config") && svcs.items.length === 0;
    }, 60_000);
  });
});
