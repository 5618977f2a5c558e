// RBAC and ServiceAccounts: a bound token from the TokenRequest API is allowed exactly what its RoleBinding
// grants; ServiceAccount admission injects the token volume and rejects pods of unknown ServiceAccounts.
import { afterAll, beforeAll, expect, it } from "vitest";
import { adminConfig, apiError, createNamespace, deleteNamespace, describeCluster, eventually, k8s, statusOf, tokenConfig } from "./support.js";

describeCluster("RBAC with ServiceAccount tokens", () => {
  const admin = adminConfig();
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  let ns = "";
  let other = "";
  let token = "";

  beforeAll(async () => {
    ns = await createNamespace(admin, "rbac");
    other = await createNamespace(admin, "rbac-other");
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: "reader" } } });
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: "pod-reader" },
        rules: [{ apiGroups: [""], resources: ["pods", "configmaps"], verbs: ["get", "list", "watch"] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: "reader-can-read" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pod-reader" },
        subjects: [{ kind: "ServiceAccount", name: "reader", namespace: ns }],
      },
    });
    const tr = await core.createNamespacedServiceAccountToken({
      namespace: ns, name: "reader", body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    token = tr.status?.token ?? "";
  });

  afterAll(async () => {
    await deleteNamespace(admin, ns);
    await deleteNamespace(admin, other);
  });

  it("issues a bound token that authenticates as the ServiceAccount", async () => {
    expect(token.split(".")).toHaveLength(3); // a signed JWT
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
    expect(claims.iss).toBe("https://kubernetes.default.svc.cluster.local");
    expect(claims.sub).toBe(`system:serviceaccount:${ns}:reader`);
    const review = await tokenConfig(admin, token).makeApiClient(k8s.AuthenticationV1Api)
      .createSelfSubjectReview({ body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" } });
    expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${ns}:reader`);
    expect(review.status?.userInfo?.groups).toContain("system:serviceaccounts");
  });

  it("allows what the RoleBinding grants and denies everything else", async () => {
    const sa = tokenConfig(admin, token).makeApiClient(k8s.CoreV1Api);
    expect(await statusOf(sa.listNamespacedPod({ namespace: ns }))).toBe(200);
    expect(await statusOf(sa.listNamespacedConfigMap({ namespace: ns }))).toBe(200);
    // other resources, other verbs, other namespaces, cluster scope: 403
    expect(await statusOf(sa.listNamespacedSecret({ namespace: ns }))).toBe(403);
    expect(await statusOf(sa.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "x" } } }))).toBe(403);
    expect(await statusOf(sa.listNamespacedPod({ namespace: other }))).toBe(403);
    expect(await statusOf(sa.listNode())).toBe(403);
    const denied = await apiError(sa.listNamespacedSecret({ namespace: ns }));
    expect(denied.message).toContain(`User "system:serviceaccount:${ns}:reader" cannot list resource "secrets"`);
  });

  it("rejects a forged token", async () => {
    const forged = token.slice(0, -4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
    expect(await statusOf(tokenConfig(admin, forged).makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: ns }))).toBe(401);
  });

  it("denies again once the RoleBinding is deleted", async () => {
    const sa = tokenConfig(admin, token).makeApiClient(k8s.CoreV1Api);
    await rbac.deleteNamespacedRoleBinding({ namespace: ns, name: "reader-can-read" });
    await eventually("403 after the RoleBinding is gone", async () =>
      (await statusOf(sa.listNamespacedPod({ namespace: ns }))) === 403);
  });

  it("ServiceAccount admission: the token volume is injected, unknown ServiceAccounts are rejected", async () => {
    const pod = (name: string, serviceAccountName: string): k8s.V1Pod => ({
      metadata: { name },
      spec: { serviceAccountName, containers: [{ name: "c", image: "weir", command: ["true"] }] },
    });
    const created = await core.createNamespacedPod({ namespace: ns, body: pod("with-sa", "reader") });
    const vol = created.spec?.volumes?.find((v) => v.name.startsWith("kube-api-access-"));
    expect(vol?.projected?.sources?.some((s) => s.serviceAccountToken?.path === "token")).toBe(true);
    expect(created.spec?.containers[0]?.volumeMounts?.[0]?.mountPath).toBe("/var/run/secrets/kubernetes.io/serviceaccount");
    const err = await apiError(core.createNamespacedPod({ namespace: ns, body: pod("no-sa", "does-not-exist") }));
    expect(err.code).toBe(403);
    expect(err.message).toContain('serviceaccount "does-not-exist" not found');
  });
});
