// The generated StreamJob CRD on a real kube-apiserver: client-side `kubectl apply`, defaults, CEL and schema
// errors that name the field, printer columns, the status and scale subresources, the example manifests.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { API_VERSION, GROUP, KIND, PLURAL, VERSION, type StreamJobSpec } from "../../operator/api/index.js";
import { adminConfig, apiError, createNamespace, deleteNamespace, describeCluster, ensureStreamJobCrd, eventually, k8s, runBin, STREAM_JOB_CRD_FILE } from "./support.js";


describeCluster("StreamJob CRD", () => {
  const kc = adminConfig();
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  let ns = "";

  const streamJob = (name: string, spec: Record<string, unknown>) => ({ apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace: ns }, spec });
  const create = (name: string, spec: Record<string, unknown>) =>
    custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, body: streamJob(name, spec) });
  const get = async (name: string) =>
    (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, name })) as { spec: StreamJobSpec };
  const rejected = async (spec: Record<string, unknown>) => {
    const err = await apiError(create("bad", spec));
    expect(err.code).toBe(422);
    return err.message;
  };
  const kubectl = (...args: string[]) => runBin("kubectl", args);

  beforeAll(async () => {
    // The CRD is cluster-wide with a fixed name and other suites use it too: installed race-free, never deleted.
    await ensureStreamJobCrd();
    // What users run: client-side apply, whose last-applied annotation must hold the whole CRD.
    await kubectl("apply", "--dry-run=server", "-f", STREAM_JOB_CRD_FILE);
    ns = await createNamespace(kc, "sj");
    // Established can precede the storage handlers by a moment: retry the first create.
    await eventually("first StreamJob accepted", () => create("minimal", { job: { module: "examples/wordcount.ts" } }));
  });

  afterAll(async () => {
    await deleteNamespace(kc, ns);
  });

  it("accepts the example manifests", async () => {
    const examples = readdirSync(join(import.meta.dirname, "../../examples")).filter((f) => f.endsWith(".yaml")).map((f) => f.slice(0, -".yaml".length));
    expect(examples).toEqual(expect.arrayContaining(["wordcount", "windowed-aggregation", "session-timeout", "kafka-window-counts"]));
    for (const f of examples) {
      await kubectl("apply", "--dry-run=server", "-n", ns, "-f", join(import.meta.dirname, "../../examples", `${f}.yaml`));
    }
  });

  it("fills in the schema's defaults", async () => {
    const { spec } = await get("minimal");
    expect(spec).toEqual({
      imagePullPolicy: "IfNotPresent",
      stateBackend: "heap",
      job: { module: "examples/wordcount.ts", parallelism: 1, maxParallelism: 128, state: "running", upgradeMode: "stateless", allowNonRestoredState: false },
    });
    await create("nested", {
      job: { module: "m.ts", upgradeMode: "last-state" },
      taskManager: { resources: { limits: { cpu: "500m", memory: "1Gi" }, requests: { cpu: 1 } } },
      checkpointing: { interval: "10s", storage: "s3://weir-state/checkpoints" },
      savepoints: { directory: "file:///var/weir/savepoints" },
      config: { "network.batch-size": "512" },
    });
    const nested = (await get("nested")).spec;
    expect(nested.taskManager).toEqual({ slots: 1, resources: { limits: { cpu: "500m", memory: "1Gi" }, requests: { cpu: 1 } } });
    expect(nested.checkpointing).toEqual({ interval: "10s", storage: "s3://weir-state/checkpoints", timeout: "10m", retained: 1 });
    expect(nested.savepoints).toEqual({ directory: "file:///var/weir/savepoints", historyMaxCount: 10, historyMaxAge: "24h", onDeletion: false });
  });

  it("keeps pod templates as given", async () => {
    const podTemplate = { spec: { nodeSelector: { disk: "ssd" }, containers: [{ name: "weir", env: [{ name: "A", value: "1" }] }] } };
    await create("pods", { job: { module: "m.ts" }, jobManager: { podTemplate } });
    expect((await get("pods")).spec.jobManager?.podTemplate).toEqual(podTemplate);
  });

  it("rejects invalid specs, naming the field", async () => {
    expect(await rejected({ job: { module: "m.ts", parallelism: 0 } })).toMatch(/spec\.job\.parallelism: Invalid value: 0: .*greater than or equal to 1/);
    expect(await rejected({ job: { module: "m.ts", parallelism: 200 } }))
      .toMatch(/spec\.job\.parallelism: Invalid value: (.*: )?spec\.job\.parallelism must not exceed spec\.job\.maxParallelism/);
    expect(await rejected({ job: { module: "m.ts", upgradeMode: "blue-green" } })).toMatch(/spec\.job\.upgradeMode: Unsupported value: "blue-green"/);
    expect(await rejected({ job: { module: "m.ts", upgradeMode: "savepoint" } }))
      .toContain("spec.savepoints.directory is required when spec.job.upgradeMode is savepoint");
    expect(await rejected({ job: { module: "m.ts", upgradeMode: "savepoint", state: "suspended" }, savepoints: { periodicInterval: "1h" } }))
      .toContain("spec.savepoints.directory is required");
    expect(await rejected({ job: { module: "m.ts", upgradeMode: "last-state" } })).toContain("spec.checkpointing (with storage) is required");
    expect(await rejected({ job: { module: "m.ts" }, checkpointing: { interval: "10s", storage: "http://example.com/x" } }))
      .toContain("spec.checkpointing.storage must be a file:/// URL, an absolute path or an s3://bucket/prefix URL");
    expect(await rejected({ job: { module: "m.ts" }, checkpointing: { interval: "10 seconds", storage: "/tmp/chk" } }))
      .toMatch(/spec\.checkpointing\.interval: Invalid value: "10 seconds"/);
    expect(await rejected({ job: {} })).toContain("spec.job.module: Required value");
    expect(await rejected({ job: { module: "m.ts" }, taskManager: { slots: 0 } })).toMatch(/spec\.taskManager\.slots: Invalid value: 0/);
  });

  it("shows the lifecycle state, job state, parallelism and last savepoint in `kubectl get sj`", async () => {
    await custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, name: "minimal",
        body: { status: { lifecycleState: "STABLE", jobStatus: { state: "RUNNING", parallelism: 1 }, savepointInfo: { lastSavepoint: { location: "s3://b/sp-1" } } } },
      },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    const { stdout } = await kubectl("get", "sj", "-n", ns);
    const [header, ...rows] = stdout.trim().split("\n");
    expect(header!.split(/\s+/)).toEqual(["NAME", "STATE", "JOB-STATE", "PARALLELISM", "LAST-SAVEPOINT", "AGE"]);
    const minimal = rows.find((r) => r.startsWith("minimal "))!.split(/\s+/);
    expect(minimal.slice(0, 5)).toEqual(["minimal", "STABLE", "RUNNING", "1", "s3://b/sp-1"]);
  });

  it("scales parallelism through the scale subresource, within maxParallelism", async () => {
    await create("scaled", { job: { module: "m.ts", maxParallelism: 4 } });
    await kubectl("scale", "-n", ns, "sj/scaled", "--replicas=3");
    expect((await get("scaled")).spec.job.parallelism).toBe(3);
    await expect(kubectl("scale", "-n", ns, "sj/scaled", "--replicas=5")).rejects.toThrow(/spec\.job\.parallelism must not exceed spec\.job\.maxParallelism/);
    expect((await get("scaled")).spec.job.parallelism).toBe(3);
  });
});
