// The built helm installs, lists, upgrades and uninstalls a chart (test/cluster/charts/smoke) on the cluster.
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { REPO_ROOT } from "./paths.js";
import { adminConfig, createNamespace, deleteNamespace, describeCluster, eventually, k8s, runBin, statusOf } from "./support.js";

const CHART = join(REPO_ROOT, "test/cluster/charts/smoke");

describeCluster("helm", () => {
  const kc = adminConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  let ns = "";
  const list = async () =>
    JSON.parse((await runBin("helm", ["list", "-n", ns, "-o", "json"])).stdout) as { name: string; status: string; revision: string }[];

  beforeAll(async () => {
    ns = await createNamespace(kc, "helm");
  });
  afterAll(async () => {
    await deleteNamespace(kc, ns);
  });

  it("installs the smoke chart", async () => {
    await runBin("helm", ["install", "smoke", CHART, "-n", ns, "--set", "greeting=hi there", "--wait", "--timeout", "60s"]);
    const cm = await core.readNamespacedConfigMap({ namespace: ns, name: "smoke-config" });
    expect(cm.data).toEqual({ greeting: "hi there", release: "smoke" });
    expect(cm.metadata?.labels?.["app.kubernetes.io/managed-by"]).toBe("Helm");
    const secret = await core.readNamespacedSecret({ namespace: ns, name: "smoke-secret" });
    expect(Buffer.from(secret.data!.password!, "base64").toString()).toBe("not-a-secret");
  });

  it("lists the release", async () => {
    expect(await list()).toEqual([expect.objectContaining({ name: "smoke", status: "deployed", revision: "1" })]);
  });

  it("upgrades it", async () => {
    await runBin("helm", ["upgrade", "smoke", CHART, "-n", ns, "--set", "greeting=bye"]);
    const cm = await core.readNamespacedConfigMap({ namespace: ns, name: "smoke-config" });
    expect(cm.data?.greeting).toBe("bye");
    expect(await list()).toEqual([expect.objectContaining({ name: "smoke", status: "deployed", revision: "2" })]);
  });

  it("uninstalls it", async () => {
    await runBin("helm", ["uninstall", "smoke", "-n", ns, "--wait"]);
    await eventually("ConfigMap removed", async () => (await statusOf(core.readNamespacedConfigMap({ namespace: ns, name: "smoke-config" }))) === 404);
    expect(await statusOf(core.readNamespacedSecret({ namespace: ns, name: "smoke-secret" }))).toBe(404);
    expect(await list()).toEqual([]);
  });
});
