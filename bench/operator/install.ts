/**
 * The operator under test: charts/weir-operator helm-installed into a namespace of the bench's own,
 * watching one job namespace (also its own), as test/cluster/operator.test.ts installs it; its Lease,
 * pods and /metrics; and the teardown that removes all of it (StreamJobs first, while the operator
 * still runs to release their finalizers).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { get } from "node:http";
import { Jobs } from "./jobs.js";
import { errorText, poll, REPO_ROOT, type Kube, k8s } from "./kube.js";

const RELEASE = "weir-bench";
export const LEASE_NAME = "weir-bench-operator";
const OPERATOR_SELECTOR = "app.kubernetes.io/name=weir-operator";
/** The chart's default leaderElection.leaseDuration. */
export const LEASE_DURATION_MS = 15_000;

/** What one bench run installed. */
export interface Installed {
  kube: Kube;
  /** The operator's (release) namespace and the namespace whose StreamJobs it manages. */
  operatorNamespace: string;
  jobs: Jobs;
  /** Host directory for the jobs' output, checkpoints and savepoints (mounted into their pods). */
  work: string;
}

/**
 * Create the namespaces and helm-install the operator (2 replicas, `stabilityWindow`), then wait for a
 * leader. `onCreated` is called as soon as there is something to clean up.
 */
export async function install(kube: Kube, stabilityWindow: string, onCreated: (i: Partial<Installed>) => void): Promise<Installed> {
  await kube.run("kubectl", ["apply", "--server-side", "--force-conflicts", "--field-manager=weir-tests", "-f", join(REPO_ROOT, "crds/streamjobs.weir.dev.yaml")]);
  await kube.run("kubectl", ["wait", "--for=condition=Established", "crd/streamjobs.weir.dev", "--timeout=60s"]);
  const partial: Partial<Installed> = { kube, work: mkdtempSync(join(tmpdir(), "weir-bench-operator-")) };
  onCreated(partial);
  partial.operatorNamespace = await kube.createNamespace("weir-bench-op");
  const ns = await kube.createNamespace("weir-bench-jobs");
  partial.jobs = new Jobs(kube, ns);
  const installed = partial as Installed;
  await kube.run("helm", [
    "install", RELEASE, join(REPO_ROOT, "charts/weir-operator"), "-n", installed.operatorNamespace, "--wait", "--timeout", "180s",
    "--set", `watchNamespaces={${ns}}`, "--set", `leaderElection.leaseName=${LEASE_NAME}`, "--set", `stabilityWindow=${stabilityWindow}`,
    // the node agent runs images from the host filesystem: an emptyDir over /tmp would hide a checkout there
    "--set", "tmpVolume=false",
  ]);
  await poll("an operator leader", async () => (await lease(installed)).spec?.holderIdentity || undefined, 60_000, 250);
  return installed;
}

/** Remove everything `install` created; returns what could not be removed (named, for the user). */
export async function uninstall(i: Partial<Installed>): Promise<string[]> {
  const problems: string[] = [];
  if (i.jobs) {
    const stuck = await i.jobs.deleteAll(90_000).catch((e: unknown) => [`(listing failed: ${errorText(e)})`]);
    if (stuck.length > 0) problems.push(`StreamJobs whose finalizer the operator did not release within 90 s (removed by hand): ${stuck.join(", ")}`);
  }
  if (i.kube && i.operatorNamespace) {
    await i.kube.run("helm", ["uninstall", RELEASE, "-n", i.operatorNamespace, "--wait", "--timeout", "120s"]).catch((e: unknown) => problems.push(errorText(e)));
  }
  const namespaces = [i.jobs?.namespace, i.operatorNamespace].filter((n): n is string => !!n);
  if (i.kube && namespaces.length > 0) {
    const left = await i.kube.deleteNamespaces(namespaces, 120_000);
    if (left.length > 0) problems.push(`namespaces still terminating after 120 s: ${left.join(", ")}`);
  }
  if (i.work) rmSync(i.work, { recursive: true, force: true });
  return problems;
}

export function lease(i: Installed): Promise<k8s.V1Lease> {
  return i.kube.coordination.readNamespacedLease({ namespace: i.operatorNamespace, name: LEASE_NAME });
}

export async function operatorPods(i: Installed): Promise<k8s.V1Pod[]> {
  return (await i.kube.core.listNamespacedPod({ namespace: i.operatorNamespace, labelSelector: OPERATOR_SELECTOR })).items;
}

export const isReady = (p: k8s.V1Pod) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;

/**
 * The pod a Lease holder identity names: the operator's identity is `<pod name>_<8 hex digits>` (a
 * fresh suffix per process, as client-go's leader election makes it); pod names never contain "_".
 */
export const holderPod = (holder: string | undefined): string | undefined => holder?.split("_")[0];

/** The leading operator pod. */
export async function leaderPod(i: Installed): Promise<k8s.V1Pod> {
  const holder = (await lease(i)).spec?.holderIdentity;
  const pod = (await operatorPods(i)).find((p) => p.metadata?.name === holderPod(holder));
  if (!pod?.status?.podIP) throw new Error(`the Lease names ${holder ?? "no holder"}, which is not a running operator pod`);
  return pod;
}

/** GET http://<podIP>:8080/metrics (the chart's http.port) as Prometheus text. */
export function scrape(podIp: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host: podIp, port: 8080, path: "/metrics", timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET /metrics of ${podIp}: HTTP ${res.statusCode}`))));
    });
    req.on("timeout", () => req.destroy(new Error(`GET /metrics of ${podIp}: no answer in ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}
