// The real apiserver enforces a CRD's structural schema and its CEL rules (x-kubernetes-validations).
import { afterAll, beforeAll, expect, it } from "vitest";
import { adminConfig, apiError, createNamespace, deleteNamespace, describeCluster, eventually, k8s, uniqueName } from "./support.js";

// CRDs are cluster-scoped: a group unique to this run keeps reruns against a kept cluster independent.
const GROUP = `${uniqueName("w")}.celtest.weir.dev`;
const PLURAL = "widgets";

const crd: k8s.V1CustomResourceDefinition & { metadata: { name: string } } = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `${PLURAL}.${GROUP}` },
  spec: {
    group: GROUP,
    scope: "Namespaced",
    names: { plural: PLURAL, singular: "widget", kind: "Widget", listKind: "WidgetList" },
    versions: [{
      name: "v1",
      served: true,
      storage: true,
      schema: {
        openAPIV3Schema: {
          type: "object",
          properties: {
            spec: {
              type: "object",
              required: ["minReplicas", "maxReplicas"],
              properties: {
                minReplicas: { type: "integer", minimum: 0 },
                maxReplicas: { type: "integer" },
                // a transition rule: only evaluated on update, when an old value exists
                storageClass: { type: "string", x_kubernetes_validations: [{ rule: "self == oldSelf", message: "storageClass is immutable" }] },
              },
              // client-node serializes typed models by property name (x_kubernetes_validations), not JSON key
              x_kubernetes_validations: [
                { rule: "self.minReplicas <= self.maxReplicas", message: "minReplicas must not exceed maxReplicas" },
              ],
            },
          },
        },
      },
    }],
  },
};

describeCluster("CRD with CEL validation rules", () => {
  const kc = adminConfig();
  const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  let ns = "";

  const widget = (name: string, spec: Record<string, unknown>) => ({
    apiVersion: `${GROUP}/v1`, kind: "Widget", metadata: { name, namespace: ns }, spec,
  });
  const create = (body: object) => custom.createNamespacedCustomObject({ group: GROUP, version: "v1", namespace: ns, plural: PLURAL, body });

  beforeAll(async () => {
    ns = await createNamespace(kc, "cel");
    await ext.createCustomResourceDefinition({ body: crd });
    await eventually("CRD Established", async () => {
      const c = await ext.readCustomResourceDefinition({ name: crd.metadata.name });
      return c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True");
    });
    // Established can precede the discovery/storage handlers by a moment: retry the first valid create.
    await eventually("first custom resource accepted", () => create(widget("ok", { minReplicas: 1, maxReplicas: 3 })));
  });

  afterAll(async () => {
    await ext.deleteCustomResourceDefinition({ name: crd.metadata.name }).catch(() => undefined);
    await deleteNamespace(kc, ns);
  });

  it("accepts a valid resource", async () => {
    const got = await custom.getNamespacedCustomObject({ group: GROUP, version: "v1", namespace: ns, plural: PLURAL, name: "ok" });
    expect(got.spec).toEqual({ minReplicas: 1, maxReplicas: 3 });
  });

  it("rejects a resource that breaks a CEL rule, with the rule's message", async () => {
    const err = await apiError(create(widget("bad", { minReplicas: 5, maxReplicas: 2 })));
    expect(err.code).toBe(422);
    expect(err.message).toContain("minReplicas must not exceed maxReplicas");
  });

  it("still applies the OpenAPI schema (minimum, required)", async () => {
    const neg = await apiError(create(widget("neg", { minReplicas: -1, maxReplicas: 2 })));
    expect(neg.code).toBe(422);
    expect(neg.message).toMatch(/minReplicas.*should be greater than or equal to 0/);
    const missing = await apiError(create(widget("missing", { minReplicas: 1 })));
    expect(missing.code).toBe(422);
    expect(missing.message).toContain("maxReplicas: Required value");
  });

  it("enforces a transition rule (oldSelf) on update", async () => {
    await create(widget("sc", { minReplicas: 1, maxReplicas: 1, storageClass: "fast" }));
    const patch = (storageClass: string) => custom.patchNamespacedCustomObject(
      { group: GROUP, version: "v1", namespace: ns, plural: PLURAL, name: "sc", body: { spec: { storageClass } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    const err = await apiError(patch("slow"));
    expect(err.code).toBe(422);
    expect(err.message).toContain("storageClass is immutable");
    await patch("fast"); // unchanged value passes
  });
});
