/**
 * Builds the local-cluster binaries (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd,
 * helm) from the Go modules under test/cluster/ into .cluster/bin/, and skips a module whose inputs
 * (go.mod, go.sum, cmd/**.go) have not changed since its last successful build.
 *
 *   npm run cluster:build            # build what is stale, print cold/warm times
 *   npm run cluster:build -- --force # rebuild everything
 *
 * Environment: GOCACHE / GOMODCACHE are honoured (set a fresh GOCACHE to measure a cold build).
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { BIN_DIR, REPO_ROOT } from "./paths.js";

/** A Go module under the repository that produces binaries into BIN_DIR (also used by test/support/s3.ts). */
export interface GoModule {
  /** directory of the module, relative to the repository root */
  dir: string;
  /** binaries it produces: name -> package path inside the module */
  binaries: Record<string, string>;
  /** -ldflags for `go build`, derived from the module's go.mod */
  ldflags: (dir: string) => string;
}

const K8S_VERSION_PKG = "k8s.io/component-base/version";

function k8sLdflags(dir: string): string {
  const goMod = readFileSync(join(REPO_ROOT, dir, "go.mod"), "utf8");
  const m = /^\s*k8s\.io\/kubernetes v(\d+)\.(\d+)\.(\d+)/m.exec(goMod);
  if (!m) throw new Error(`${dir}/go.mod does not require k8s.io/kubernetes`);
  const v = `v${m[1]}.${m[2]}.${m[3]}`;
  const x = (k: string, val: string) => `-X ${K8S_VERSION_PKG}.${k}=${val}`;
  // /version must report a real version: clients (kubectl, helm, client-node) parse it.
  return ["-s -w", x("gitVersion", v), x("gitMajor", m[1]!), x("gitMinor", m[2]!), x("gitTreeState", "clean"),
    x("buildDate", "1970-01-01T00:00:00Z")].join(" ");
}

function helmLdflags(dir: string): string {
  const goMod = readFileSync(join(REPO_ROOT, dir, "go.mod"), "utf8");
  const m = /^\s*helm\.sh\/helm\/v3 (v\S+)/m.exec(goMod);
  const parts = ["-s -w"];
  if (m) parts.push(`-X helm.sh/helm/v3/internal/version.version=${m[1]}`);
  return parts.join(" ");
}

export const MODULES: GoModule[] = [
  {
    dir: "test/cluster/k8s-bin",
    binaries: {
      "kube-apiserver": "./cmd/kube-apiserver",
      "kube-controller-manager": "./cmd/kube-controller-manager",
      "kube-scheduler": "./cmd/kube-scheduler",
      kubectl: "./cmd/kubectl",
      etcd: "./cmd/etcd",
    },
    ldflags: k8sLdflags,
  },
  {
    dir: "test/cluster/helm-bin",
    // built from the dependency itself (go.mod `tool` directive): helm's main package spans many files
    binaries: { helm: "helm.sh/helm/v3/cmd/helm" },
    ldflags: helmLdflags,
  },
];

function listGoFiles(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listGoFiles(p));
    else if (e.name.endsWith(".go")) out.push(p);
  }
  return out.sort();
}

/** Hash of everything that determines the module's binaries. */
export function moduleHash(mod: GoModule): string {
  const abs = join(REPO_ROOT, mod.dir);
  const h = createHash("sha256");
  for (const f of ["go.mod", "go.sum", ...listGoFiles(join(abs, "cmd")).map((p) => relative(abs, p))]) {
    h.update(f + "\0");
    h.update(readFileSync(join(abs, f)));
    h.update("\0");
  }
  h.update(JSON.stringify(mod.binaries));
  return h.digest("hex").slice(0, 16);
}

function stampPath(mod: GoModule): string {
  return join(BIN_DIR, `.${mod.dir.split("/").pop()}.stamp`);
}

export function isFresh(mod: GoModule): boolean {
  const stamp = stampPath(mod);
  if (!existsSync(stamp)) return false;
  if (readFileSync(stamp, "utf8").trim() !== moduleHash(mod)) return false;
  return Object.keys(mod.binaries).every((b) => existsSync(join(BIN_DIR, b)));
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} failed: ${signal ?? `exit ${code}`}`)));
  });
}

function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GOTOOLCHAIN: "local", CGO_ENABLED: "0", GOFLAGS: process.env.GOFLAGS ?? "" };
}

async function buildModule(mod: GoModule): Promise<number> {
  const abs = join(REPO_ROOT, mod.dir);
  const ldflags = mod.ldflags(mod.dir);
  // A temp dir per build: two processes building at once (e.g. parallel test files) must not collide.
  mkdirSync(BIN_DIR, { recursive: true });
  const tmp = mkdtempSync(join(BIN_DIR, ".tmp-"));
  const t0 = Date.now();
  // One `go build` for all the module's binaries: packages compile once, links run in parallel.
  await run("go", ["build", "-trimpath", `-ldflags=${ldflags}`, "-o", tmp + "/", ...Object.values(mod.binaries)],
    abs, goEnv());
  for (const [name, pkg] of Object.entries(mod.binaries)) {
    const built = join(tmp, pkg.split("/").pop()!);
    renameSync(built, join(BIN_DIR, name));
  }
  rmSync(tmp, { recursive: true, force: true });
  writeFileSync(stampPath(mod), moduleHash(mod) + "\n");
  return (Date.now() - t0) / 1000;
}

/** Builds one module if its inputs changed since its last build (or `force`); true when it built. */
export async function ensureBuilt(
  mod: GoModule,
  opts: { force?: boolean; log?: (s: string) => void } = {},
): Promise<boolean> {
  const log = opts.log ?? ((s: string) => console.log(s));
  if (!opts.force && isFresh(mod)) return false;
  log(`[cluster:build] building ${Object.keys(mod.binaries).join(", ")} from ${mod.dir} (cold builds take minutes)`);
  const s = await buildModule(mod);
  log(`[cluster:build] ${mod.dir}: built in ${s.toFixed(1)} s`);
  return true;
}

export interface BuildResult { built: string[]; skipped: string[]; seconds: number }

/** Builds stale modules; returns what it did. */
export async function buildAll(
  opts: { force?: boolean; only?: string; log?: (s: string) => void } = {},
): Promise<BuildResult> {
  const log = opts.log ?? ((s: string) => console.log(s));
  mkdirSync(BIN_DIR, { recursive: true });
  const t0 = Date.now();
  const res: BuildResult = { built: [], skipped: [], seconds: 0 };
  for (const mod of MODULES) {
    if (opts.only && !mod.dir.endsWith(opts.only)) continue;
    if (await ensureBuilt(mod, { force: opts.force, log })) res.built.push(mod.dir);
    else res.skipped.push(mod.dir);
  }
  res.seconds = (Date.now() - t0) / 1000;
  const kind = res.built.length === 0 ? "warm (cached, nothing rebuilt)" : "build";
  log(`[cluster:build] ${kind}: ${res.seconds.toFixed(1)} s; binaries in ${relative(REPO_ROOT, BIN_DIR)}/`);
  return res;
}

export function binSizes(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const mod of MODULES) for (const b of Object.keys(mod.binaries)) {
    const p = join(BIN_DIR, b);
    if (existsSync(p)) out[b] = statSync(p).size;
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf("--only");
  buildAll({ force: process.argv.includes("--force"), only: i > 0 ? process.argv[i + 1] : undefined }).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
