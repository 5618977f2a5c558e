/** API clients the agent uses, and helpers for API errors. */
import { CoordinationV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";

/** The agent's API clients. */
export interface Kube {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly coord: CoordinationV1Api;
}

/** Clients for a kubeconfig file. */
export function kubeFromFile(path: string): Kube {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return { kc, core: kc.makeApiClient(CoreV1Api), coord: kc.makeApiClient(CoordinationV1Api) };
}

/** Request options that send a JSON merge patch. */
export const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** The HTTP status of an API error, if it is one. */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === "number" ? code : undefined;
}
