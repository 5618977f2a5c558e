// The operator's chart (charts/weir-operator): `helm lint`, what `helm template` renders, the values it rejects
// (naming the field), its CRD, and on the cluster a server dry run and the rights its RBAC really grants.
// The operator itself is never started here.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { DURATION_PATTERN } from "../../operator/api/index.js";
import { OPTIONS } from "../../runtime/config/options.js";
import { bin, REPO_ROOT } from "./paths.js";
import { adminConfig, createNamespace, deleteNamespace, describeCluster, ensureStreamJobCrd, k8s, runBin, uniqueName } from "./support.js";

const CHART = join(REPO_ROOT, "charts/weir-operator");
const execFileAsync = promisify(execFile);
const HELM_HOME = mkdtempSync(join(tmpdir(), "weir-helm-chart-"));

interface HelmResult { code: number; stdout: string; stderr: string }

/** Runs the built helm without a cluster (lint, template); a failure is a result, not an exception. */
async function helm(args: string[]): Promise<HelmResult> {
  const env = { ...process.env, HELM_CACHE_HOME: join(HELM_HOME, "cache"), HELM_CONFIG_HOME: join(HELM_HOME, "config"), HELM_DATA_HOME: join(HELM_HOME, "data") };
  try {
    const { stdout, stderr } = await execFileAsync(bin("helm"), args, { env, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as Error & { code?: unknown; stdout?: string; stderr?: string };
    if (typeof err.code !== "number") throw new Error(`cannot run ${bin("helm")} (build it with npm run cluster:build): ${err.message}`);
    return { code: err.code, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } } & Record<string, any>;

/** `helm template` of the chart as objects; `set` are --set arguments. */
async function render(set: string[] = [], extra: string[] = []): Promise<Obj[]> {
  const r = await helm(["template", "weir", CHART, "-n", "weir-system", ...set.flatMap((s) => ["--set", s]), ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj | null).filter((o): o is Obj => o !== null);
}

function only(objs: Obj[], kind: string, namespace?: string): Obj {
  const found = objs.filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace));
  expect(found, `exactly one ${kind}${namespace ? ` in ${namespace}` : ""}`).toHaveLength(1);
  return found[0]!;
}

/** The operator container's flags as a map; every flag takes a value (the `--flag value` form). */
function flags(deployment: Obj): Map<string, string> {
  const args = deployment.spec.template.spec.containers[0].args as string[];
  expect(args[0]).toBe("operator");
  const out = new Map<string, string>();
  for (let i = 1; i < args.length; i += 2) {
    expect(args[i], `argument ${i}`).toMatch(/^--[a-z-]+$/);
    out.set(args[i]!, args[i + 1]!);
  }
  return out;
}

/** The rules the operator needs on StreamJobs and their children (leases are granted separately). */
const WATCH_RULES = [
  { apiGroups: ["weir.dev"], resources: ["streamjobs"], verbs: ["get", "list", "watch", "update", "patch"] },
  { apiGroups: ["weir.dev"], resources: ["streamjobs/status"], verbs: ["get", "update", "patch"] },
  { apiGroups: ["weir.dev"], resources: ["streamjobs/finalizers"], verbs: ["update"] },
  { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] },
  { apiGroups: [""], resources: ["services", "configmaps"], verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "delete"] },
  { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
  { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] },
];

describe("charts/weir-operator", () => {
  it("passes helm lint --strict, all-namespaces and namespaced", async () => {
    for (const set of [[], ["--set", "watchNamespaces={a,b}", "--set-string", "jobDefaults.state\\.backend=rocksdb"]]) {
      const r = await helm(["lint", "--strict", CHART, ...set]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain("0 chart(s) failed");
      expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });

  it("renders the documented objects by default", async () => {
    const objs = await render();
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      "ClusterRole/weir-weir-operator", "ClusterRoleBinding/weir-weir-operator", "ConfigMap/weir-weir-operator-job-defaults",
      "Deployment/weir-weir-operator", "PodDisruptionBudget/weir-weir-operator", "Role/weir-weir-operator-leader-election",
      "RoleBinding/weir-weir-operator-leader-election", "Service/weir-weir-operator-metrics", "ServiceAccount/weir-weir-operator",
    ]);
    for (const o of objs) {
      expect(o.metadata.labels, `${o.kind} labels`).toMatchObject({
        "app.kubernetes.io/name": "weir-operator", "app.kubernetes.io/instance": "weir", "app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "weir-operator-0.1.0",
      });
      if (!o.kind.startsWith("Cluster")) expect(o.metadata.namespace, `${o.kind} namespace`).toBe("weir-system");
    }
  });

  it("runs the operator command with flags from the values", async () => {
    const objs = await render();
    const d = only(objs, "Deployment");
    expect(d.spec.replicas).toBe(2);
    const c = d.spec.template.spec.containers[0];
    expect(c.name).toBe("operator");
    expect(c.image).toBe("weir:0.1.0");
    expect(c.imagePullPolicy).toBe("IfNotPresent");
    expect(c.command).toEqual(["node", "bin/weir.js"]);
    expect(Object.fromEntries(flags(d))).toEqual({
      "--lease-name": "weir-weir-operator", "--lease-namespace": "weir-system",
      "--lease-duration": "15s", "--renew-deadline": "10s", "--retry-period": "2s",
      "--http-port": "8080", "--log-level": "info", "--default-image": "weir:0.1.0",
      "--job-defaults": "/etc/weir/job-defaults.yaml", "--workers": "4", "--stability-window": "10s",
    });
    expect(c.env).toEqual([
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
    ]);
    expect(d.spec.template.spec.serviceAccountName).toBe(only(objs, "ServiceAccount").metadata.name);
  });

  it("probes /healthz and /readyz on the http port and runs locked down", async () => {
    const pod = only(await render(), "Deployment").spec.template.spec;
    const c = pod.containers[0];
    expect(c.ports).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(c.resources.requests).toBeDefined();
    expect(c.resources.limits.memory).toBeDefined();
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.terminationGracePeriodSeconds).toBe(30);
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm).toEqual({
      topologyKey: "kubernetes.io/hostname",
      labelSelector: { matchLabels: { "app.kubernetes.io/name": "weir-operator", "app.kubernetes.io/instance": "weir" } },
    });
  });

  it("leaves /tmp alone with tmpVolume=false", async () => {
    const pod = only(await render(["tmpVolume=false"]), "Deployment").spec.template.spec;
    expect(pod.containers[0].volumeMounts.map((m: { mountPath: string }) => m.mountPath)).not.toContain("/tmp");
    expect(pod.volumes.map((v: { name: string }) => v.name)).toEqual(["job-defaults"]);
  });

  it("mounts an emptyDir at /tmp and the job defaults read-only where --job-defaults points", async () => {
    const objs = await render([], ["--set-string", "jobDefaults.execution\\.checkpointing\\.timeout=600000", "--set-string", "jobDefaults.restart-strategy\\.type=exponential-delay"]);
    const d = only(objs, "Deployment");
    const pod = d.spec.template.spec;
    const mounts = pod.containers[0].volumeMounts as { name: string; mountPath: string; readOnly?: boolean }[];
    const volume = (name: string) => pod.volumes.find((v: { name: string }) => v.name === name);
    expect(volume(mounts.find((m) => m.mountPath === "/tmp")!.name).emptyDir).toEqual({});
    const file = flags(d).get("--job-defaults")!;
    const cfgMount = mounts.find((m) => file.startsWith(m.mountPath + "/"))!;
    expect(cfgMount.readOnly).toBe(true);
    const cm = only(objs, "ConfigMap");
    expect(volume(cfgMount.name).configMap.name).toBe(cm.metadata.name);
    const defaults = parse(cm.data[file.slice(cfgMount.mountPath.length + 1)]) as Record<string, string>;
    expect(defaults).toEqual({ "execution.checkpointing.timeout": "600000", "restart-strategy.type": "exponential-delay" });
    for (const key of Object.keys(defaults)) expect(Object.keys(OPTIONS), key).toContain(key);
    // A change of the defaults rolls the pods (the operator reads the file at start).
    const before = only(await render(), "Deployment").spec.template.metadata.annotations["checksum/job-defaults"];
    expect(d.spec.template.metadata.annotations["checksum/job-defaults"]).not.toBe(before);
  });

  it("passes only flags and log levels that `weir operator` accepts", async () => {
    const script = "const m = await import('./runtime/cli/main.ts'); process.exitCode = await m.main(['operator', '--help']);";
    const { stdout: help } = await execFileAsync(process.execPath, ["--import", "tsx", "-e", script], { cwd: REPO_ROOT });
    const accepted = new Set(help.match(/--[a-z-]+/g));
    const rendered = flags(only(await render(["watchNamespaces={a,b}"]), "Deployment"));
    for (const flag of rendered.keys()) expect(accepted, `weir operator --help lists ${flag}`).toContain(flag);
    const schema = JSON.parse(readFileSync(join(CHART, "values.schema.json"), "utf8"));
    for (const level of schema.properties.logLevel.enum as string[]) expect(help, `log level ${level}`).toContain(`"${level}"`);
  });

  it("grants exactly the documented rules cluster-wide, and the Lease only by name in its own namespace", async () => {
    const objs = await render();
    expect(only(objs, "ClusterRole").rules).toEqual(WATCH_RULES);
    const sa = only(objs, "ServiceAccount");
    const subject = [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: "weir-system" }];
    expect(only(objs, "ClusterRoleBinding")).toMatchObject({ roleRef: { kind: "ClusterRole", name: only(objs, "ClusterRole").metadata.name }, subjects: subject });
    const lease = only(objs, "Role", "weir-system");
    expect(lease.rules).toEqual([
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: [flags(only(objs, "Deployment")).get("--lease-name")], verbs: ["get", "update"] },
    ]);
    expect(only(objs, "RoleBinding", "weir-system")).toMatchObject({ roleRef: { kind: "Role", name: lease.metadata.name }, subjects: subject });
  });

  it("with watchNamespaces grants the same rules through a Role per namespace and nothing cluster-wide", async () => {
    const objs = await render(["watchNamespaces={a,b}"]);
    expect(objs.filter((o) => o.kind.startsWith("Cluster"))).toEqual([]);
    for (const ns of ["a", "b"]) {
      const role = only(objs, "Role", ns);
      expect(role.rules).toEqual(WATCH_RULES);
      expect(only(objs, "RoleBinding", ns)).toMatchObject({
        roleRef: { kind: "Role", name: role.metadata.name }, subjects: [{ kind: "ServiceAccount", namespace: "weir-system" }],
      });
    }
    expect(objs.filter((o) => o.kind === "Role").map((o) => o.metadata.namespace).sort()).toEqual(["a", "b", "weir-system"]);
    expect(flags(only(objs, "Deployment")).get("--watch-namespaces")).toBe("a,b");
  });

  it("leaves RBAC out with rbac.create=false, the PDB with one replica, the Service when disabled", async () => {
    const kinds = (objs: Obj[]) => objs.map((o) => o.kind).sort();
    expect(kinds(await render(["rbac.create=false"]))).toEqual(["ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "ServiceAccount"]);
    expect(kinds(await render(["replicas=1", "metrics.service.enabled=false"]))).toEqual(
      ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "Role", "RoleBinding", "ServiceAccount"]);
    expect(only(await render(), "PodDisruptionBudget").spec).toEqual({
      minAvailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": "weir-operator", "app.kubernetes.io/instance": "weir" } },
    });
  });

  it("passes the other values through", async () => {
    const objs = await render([
      "image.repository=registry.example/weir", "image.tag=1.2.3", "defaultJobImage=jobs:7", "logLevel=debug", "workers=8", "http.port=9090",
      "leaderElection.leaseName=my-lease", "leaderElection.leaseDuration=1m", "leaderElection.renewDeadline=40s", "leaderElection.retryPeriod=500ms",
      "nodeSelector.pool=ops", "podLabels.team=data", "podAnnotations.note=hi", "serviceAccount.name=op",
    ]);
    const d = only(objs, "Deployment");
    expect(d.spec.template.spec.containers[0].image).toBe("registry.example/weir:1.2.3");
    expect(Object.fromEntries(flags(d))).toMatchObject({
      "--default-image": "jobs:7", "--log-level": "debug", "--workers": "8", "--http-port": "9090",
      "--lease-name": "my-lease", "--lease-duration": "1m", "--renew-deadline": "40s", "--retry-period": "500ms",
    });
    expect(d.spec.template.spec.nodeSelector).toEqual({ pool: "ops" });
    expect(d.spec.template.metadata.labels.team).toBe("data");
    expect(d.spec.template.metadata.annotations.note).toBe("hi");
    expect(d.spec.template.spec.serviceAccountName).toBe("op");
    expect(only(objs, "ServiceAccount").metadata.name).toBe("op");
    expect(only(objs, "Role").rules[1].resourceNames).toEqual(["my-lease"]);
    const svc = only(objs, "Service");
    expect(svc.spec.ports).toEqual([{ name: "http-metrics", port: 8080, targetPort: "http", protocol: "TCP" }]);
    expect(svc.spec.selector).toEqual(d.spec.selector.matchLabels);
    expect(svc.metadata.annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": "9090", "prometheus.io/path": "/metrics" });
    expect(only(await render(["metrics.scrapeAnnotations=false"]), "Service").metadata.annotations).toBeUndefined();
  });

  // values.schema.json: helm lint, template and install all reject these.
  it.each([
    [["replicas=two"], /\/replicas': got string, want integer/],
    [["logLevel=loud"], /\/logLevel': value must be one of 'fatal', 'error', 'warn', 'info', 'debug', 'trace'/],
    [["replica=3"], /additional properties 'replica' not allowed/],
    [["leaderElection.leaseDuration=15 seconds"], /\/leaderElection\/leaseDuration'/],
    [["jobDefaults.execution\\.checkpointing\\.timeout=600000"], /\/jobDefaults\/execution\.checkpointing\.timeout': got number, want string/],
    [["watchNamespaces={Prod}"], /\/watchNamespaces\/0'/],
    [["workers=0"], /\/workers'/],
    [["image.pullPolicy=Sometimes"], /\/image\/pullPolicy'/],
  ])("rejects %j naming the field", async (set, message) => {
    for (const command of ["template", "lint"]) {
      const r = await helm([command, CHART, ...set.flatMap((s) => ["--set", s])]);
      expect(r.code, `helm ${command} accepted ${set.join(" ")}`).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(message);
    }
  });

  // Checks across fields (templates/_helpers.tpl): template and install reject these; lint only logs a `fail`.
  it.each([
    [["leaderElection.renewDeadline=20s"], /leaderElection\.renewDeadline \(20s\) must be shorter than leaderElection\.leaseDuration \(15s\)/],
    [["leaderElection.retryPeriod=10s"], /leaderElection\.retryPeriod \(10s\) must be shorter than leaderElection\.renewDeadline \(10s\)/],
    [["leaderElection.leaseDuration=1m30s", "leaderElection.renewDeadline=1m31s"], /renewDeadline \(1m31s\) must be shorter than leaderElection\.leaseDuration \(1m30s\)/],
    [["serviceAccount.create=false"], /serviceAccount\.name must name an existing ServiceAccount/],
  ])("rejects %j in helm template", async (set, message) => {
    const r = await helm(["template", CHART, ...set.flatMap((s) => ["--set", s])]);
    expect(r.code, `helm template accepted ${set.join(" ")}`).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it("checks durations with the CRD's pattern", () => {
    const schema = JSON.parse(readFileSync(join(CHART, "values.schema.json"), "utf8"));
    for (const field of ["leaseDuration", "renewDeadline", "retryPeriod"]) {
      expect(schema.properties.leaderElection.properties[field].pattern, field).toBe(DURATION_PATTERN);
    }
  });

  it("ships the root CRD, byte for byte", async () => {
    const crd = readFileSync(join(REPO_ROOT, "crds/streamjobs.weir.dev.yaml"), "utf8");
    expect(readFileSync(join(CHART, "crds/streamjobs.weir.dev.yaml"), "utf8")).toBe(crd);
    const shown = await helm(["show", "crds", CHART]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(parseAllDocuments(shown.stdout).map((d) => d.toJS())).toEqual([parse(crd)]);
  });
});

describeCluster("charts/weir-operator on the cluster", () => {
  const kc = adminConfig();
  const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
  const namespaces: string[] = [];
  let release = "";
  let watched: string[] = [];
  let unwatched = "";
  const dir = mkdtempSync(join(tmpdir(), "weir-chart-"));

  /** `helm template` for the cluster into a file (for kubectl), namespaced in `release` (the namespace). */
  async function renderFile(name: string, args: string[]): Promise<string> {
    const r = await helm(["template", name, CHART, "-n", release, ...args]);
    expect(r.code, r.stderr).toBe(0);
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, r.stdout);
    return file;
  }

  beforeAll(async () => {
    await ensureStreamJobCrd();
    for (const prefix of ["weir-op", "watch-a", "watch-b", "unwatched"]) namespaces.push(await createNamespace(kc, prefix));
    [release, watched, unwatched] = [namespaces[0]!, namespaces.slice(1, 3), namespaces[3]!];
  });
  afterAll(async () => {
    await Promise.all(namespaces.map((ns) => deleteNamespace(kc, ns)));
  });

  it("passes helm install --dry-run=server and prints how to run an example", async () => {
    const r = await runBin("helm", ["install", uniqueName("weir"), CHART, "-n", release, "--dry-run=server", "--set", `watchNamespaces={${watched.join(",")}}`]);
    expect(r.stdout).toContain("kubectl apply");
    expect(r.stdout).toContain("-f examples/wordcount.yaml");
    expect(r.stdout).toContain("kubectl get sj");
  });

  it("is accepted by the apiserver as rendered (kubectl apply --dry-run=server), all-namespaces and namespaced", async () => {
    for (const [name, args] of [[uniqueName("weir"), []], [uniqueName("weir"), ["--set", `watchNamespaces={${watched.join(",")}}`]]] as const) {
      const r = await runBin("kubectl", ["apply", "--dry-run=server", "-f", await renderFile(name, [...args])]);
      expect(r.stdout).toMatch(/deployment\.apps\/\S+ created \(server dry run\)/);
    }
  });

  it("grants the operator's ServiceAccount what it needs in watched namespaces and nothing elsewhere", async () => {
    const name = uniqueName("weir");
    const rbacOnly = ["serviceaccount.yaml", "rbac.yaml", "leader-election-rbac.yaml"].flatMap((t) => ["--show-only", `templates/${t}`]);
    const file = await renderFile(name, ["--set", `watchNamespaces={${watched.join(",")}}`, ...rbacOnly]);
    await runBin("kubectl", ["apply", "-f", file]);
    const user = `system:serviceaccount:${release}:${name}-weir-operator`;
    const can = async (verb: string, resource: string, namespace: string, group = "", extra: { subresource?: string; name?: string } = {}) => {
      const review = await authz.createSubjectAccessReview({
        body: { spec: { user, groups: ["system:serviceaccounts", `system:serviceaccounts:${release}`], resourceAttributes: { verb, resource, group, namespace, ...extra } } },
      });
      return review.status?.allowed === true;
    };
    const [a, b] = watched as [string, string];
    for (const ns of [a, b]) {
      expect(await can("watch", "streamjobs", ns, "weir.dev")).toBe(true);
      expect(await can("patch", "streamjobs", ns, "weir.dev", { subresource: "status" })).toBe(true);
      expect(await can("update", "streamjobs", ns, "weir.dev", { subresource: "finalizers" })).toBe(true);
      expect(await can("delete", "deployments", ns, "apps")).toBe(true);
      expect(await can("create", "configmaps", ns)).toBe(true);
      expect(await can("list", "pods", ns)).toBe(true);
      expect(await can("create", "events", ns, "events.k8s.io")).toBe(true);
    }
    expect(await can("list", "streamjobs", unwatched, "weir.dev")).toBe(false);
    expect(await can("list", "streamjobs", "", "weir.dev")).toBe(false);
    expect(await can("create", "streamjobs", a, "weir.dev")).toBe(false);
    expect(await can("delete", "streamjobs", a, "weir.dev")).toBe(false);
    expect(await can("create", "pods", a)).toBe(false);
    expect(await can("get", "secrets", a)).toBe(false);
    const lease = `${name}-weir-operator`;
    expect(await can("create", "leases", release, "coordination.k8s.io")).toBe(true);
    expect(await can("update", "leases", release, "coordination.k8s.io", { name: lease })).toBe(true);
    expect(await can("get", "leases", release, "coordination.k8s.io", { name: "someone-elses" })).toBe(false);
    expect(await can("get", "leases", a, "coordination.k8s.io", { name: lease })).toBe(false);
  });
});
