/**
 * Loading a job module: import it (TypeScript through tsx's loader), check its default export, and
 * let it build its dataflow on a fresh environment. The JobManager and every TaskManager do this with
 * the same path and arguments, so they all derive the same graph.
 */
import { existsSync } from "node:fs";
import { basename, extname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { StreamEnvironment } from "../api/environment.js";
import { WeirError } from "../common/errors.js";
import { buildJobGraph, type JobGraph } from "./job-graph.js";
import type { StreamGraph } from "./stream-graph.js";

export interface JobModuleSpec {
  module: string;
  args: readonly string[];
  parallelism: number;
  name?: string;
}

export interface LoadedJob {
  streamGraph: StreamGraph;
  jobGraph: JobGraph;
}

let tsLoaderRegistered: Promise<void> | null = null;

/** Register tsx's ESM loader once, so `.ts` job modules import like JavaScript. */
function registerTypeScript(): Promise<void> {
  tsLoaderRegistered ??= import("tsx/esm/api").then((m) => {
    m.register();
  });
  return tsLoaderRegistered;
}

/** Import a job module and build its graph; every failure is a WeirError naming the module. */
export async function loadJob(spec: JobModuleSpec): Promise<LoadedJob> {
  const path = isAbsolute(spec.module) ? spec.module : resolve(spec.module);
  if (!existsSync(path)) throw new WeirError("WEIR_E_MODULE_LOAD", `job module ${path} does not exist`);
  if (/\.(c|m)?tsx?$/.test(path)) await registerTypeScript();
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw new WeirError("WEIR_E_MODULE_LOAD", `job module ${path} failed to load: ${(err as Error)?.message ?? err}`, { cause: err });
  }
  const build = mod.default;
  if (typeof build !== "function") {
    throw new WeirError(
      "WEIR_E_NO_DEFAULT_EXPORT",
      `job module ${path} has no default export function; write \`export default (env: StreamEnvironment, args: string[]) => { ... }\`` +
        (build === undefined ? "" : ` (its default export is a ${typeof build})`),
    );
  }
  const env = new StreamEnvironment({ parallelism: spec.parallelism, jobName: basename(path, extname(path)) });
  try {
    await build(env, [...spec.args]);
  } catch (err) {
    throw new WeirError("WEIR_E_JOB_BUILD", `the job function of ${path} threw: ${(err as Error)?.message ?? err}`, { cause: err });
  }
  const streamGraph = env.toStreamGraph();
  const named = spec.name ? { ...streamGraph, jobName: spec.name } : streamGraph;
  return { streamGraph: named, jobGraph: buildJobGraph(named) };
}
