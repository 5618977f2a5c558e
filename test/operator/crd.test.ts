// The CRDs in crds/ (and their copies in charts/weir-operator/crds/) are generated from operator/api: they must be current, small, structural and carry defaults.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CRD_DIRS, crdFiles } from "../../operator/api/crd-files.js";
import { parseDuration, streamJobCrd, type StreamJob } from "../../operator/api/index.js";

const ROOT = join(import.meta.dirname, "../..");

type Schema = Record<string, any>;

const crd = streamJobCrd() as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } };
const root = crd.spec.versions[0]!.schema.openAPIV3Schema;
const spec = root.properties.spec as Schema;

/** Every schema node with its JSON path (properties, items, additionalProperties, anyOf branches). */
function* nodes(s: Schema, path = ""): Generator<[string, Schema]> {
  yield [path, s];
  for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) yield* nodes(v, `${path}.${k}`);
  if (s.items) yield* nodes(s.items as Schema, `${path}[]`);
  if (typeof s.additionalProperties === "object") yield* nodes(s.additionalProperties as Schema, `${path}.*`);
}

describe("crds/ and charts/weir-operator/crds/", () => {
  it("are what `npm run crds` generates now", () => {
    for (const f of crdFiles()) {
      let onDisk = "";
      try {
        onDisk = readFileSync(join(ROOT, f.path), "utf8");
      } catch { /* missing: reported below */ }
      expect(onDisk === f.text, `${f.path} is stale: run npm run crds`).toBe(true);
    }
  });

  it("hold nothing but the generated files (no CRD left behind by a rename)", () => {
    const generated = crdFiles().map((f) => f.path).sort();
    const onDisk = CRD_DIRS.flatMap((dir) => readdirSync(join(ROOT, dir)).map((name) => `${dir}/${name}`)).sort();
    expect(onDisk).toEqual(generated);
  });

  it("stays far below the 256 KiB client-side apply limit", () => {
    for (const f of crdFiles()) expect(Buffer.byteLength(f.text), f.path).toBeLessThan(100 * 1024);
  });

  it("parses back to the CRD object (no YAML anchors or aliases)", () => {
    const text = crdFiles()[0]!.text;
    expect(text).not.toMatch(/^\s*[^#\n]*[&*][a-z0-9]+\s*$/m);
    expect(parse(text)).toEqual(streamJobCrd());
  });
});

describe("StreamJob schema", () => {
  it("is structural: every node has a type, no forbidden keywords", () => {
    const forbidden = ["$ref", "$schema", "$id", "definitions", "patternProperties", "const", "dependencies", "oneOf", "allOf", "not", "additionalItems"];
    for (const [path, s] of nodes(root)) {
      const intOrString = s["x-kubernetes-int-or-string"] === true;
      if (!intOrString) expect(typeof s.type, `${path || "<root>"} has no type`).toBe("string");
      if (s.anyOf) expect(intOrString, `${path}: anyOf only for int-or-string`).toBe(true);
      for (const k of forbidden) expect(k in s, `${path}: ${k} is not allowed`).toBe(false);
      expect(s.properties && s.additionalProperties, `${path}: properties and additionalProperties together`).toBeFalsy();
      if (s.uniqueItems !== undefined) expect(s.uniqueItems, `${path}: uniqueItems`).toBe(false);
      expect(Object.getOwnPropertySymbols(s), `${path}: TypeBox symbols leaked`).toEqual([]);
    }
  });

  it("declares the defaults the operator relies on", () => {
    const job = spec.properties.job.properties;
    expect(job.parallelism.default).toBe(1);
    expect(job.maxParallelism.default).toBe(128);
    expect(job.maxParallelism.maximum).toBe(32768);
    expect(job.state.default).toBe("running");
    expect(job.upgradeMode.default).toBe("stateless");
    expect(job.allowNonRestoredState.default).toBe(false);
    expect(spec.properties.imagePullPolicy.default).toBe("IfNotPresent");
    expect(spec.properties.stateBackend.default).toBe("heap");
    expect(spec.properties.taskManager.properties.slots.default).toBe(1);
    expect(spec.required).toEqual(["job"]);
    expect(spec.properties.job.required).toEqual(["module"]);
    expect(spec.properties.taskManager.properties.replicas).toBeUndefined();
  });

  it("CEL rules name the field they are about", () => {
    for (const [path, s] of nodes(root)) {
      for (const r of (s["x-kubernetes-validations"] ?? []) as { message?: string; messageExpression?: string }[]) {
        expect(r.message ?? r.messageExpression, path).toMatch(/spec\.[a-zA-Z.]+/);
      }
    }
  });

  it("has status and scale subresources on parallelism and the kubectl columns", () => {
    const v = (streamJobCrd() as any).spec.versions[0];
    expect(v.subresources.scale.specReplicasPath).toBe(".spec.job.parallelism");
    expect(v.subresources.status).toEqual({});
    expect(v.additionalPrinterColumns.map((c: { name: string }) => c.name)).toEqual(["State", "Job-State", "Parallelism", "Last-Savepoint", "Age"]);
  });

  it("types a minimal manifest", () => {
    const job: StreamJob = { apiVersion: "weir.dev/v1alpha1", kind: "StreamJob", metadata: { name: "wc" }, spec: { job: { module: "examples/wordcount.ts" } } };
    expect(job.spec.job.parallelism).toBeUndefined();
  });
});

describe("parseDuration", () => {
  it("converts duration strings to milliseconds", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("10s")).toBe(10_000);
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("1h5m")).toBe(3_900_000);
  });

  it("rejects anything else, naming the field", () => {
    expect(() => parseDuration("10", "spec.checkpointing.interval")).toThrow(/spec\.checkpointing\.interval: "10" is not a duration/);
    expect(() => parseDuration("1.5s")).toThrow(/not a duration/);
  });
});
