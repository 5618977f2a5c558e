/**
 * CLI of the node agent:
 * `tsx test/cluster/agent/main.ts --kubeconfig <path> --node <name> [--root <dir>] [--state-dir <dir>]
 *  [--log-dir <dir>] [--backoff-base-ms <n>] [--image <name>=<dir>]... [--taint key[=value]:Effect]... [--keep-pods]`
 * Prints `node agent <name> ready` on stdout once registered. SIGTERM/SIGINT stop it and kill its pods'
 * processes (unless --keep-pods); SIGKILL leaves them running, and the next agent re-adopts them.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startNodeAgent } from "./internal/agent.js";
import type { NodeAgentOptions } from "./internal/config.js";

const REPO = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../..");

/** Parses the CLI flags into agent options (pure). */
export function parseArgs(argv: readonly string[]): NodeAgentOptions & { keepPods: boolean } {
  const o: NodeAgentOptions & { keepPods: boolean } = { kubeconfig: resolve(REPO, ".cluster/kubeconfig"), nodeName: "weir-node-1", root: REPO, keepPods: false };
  const images: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`flag ${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--kubeconfig": o.kubeconfig = resolve(val()); break;
      case "--node": o.nodeName = val(); break;
      case "--root": o.root = resolve(val()); break;
      case "--state-dir": o.stateDir = resolve(val()); break;
      case "--log-dir": o.logDir = resolve(val()); break;
      case "--backoff-base-ms": o.backoffBaseMs = Number(val()); break;
      case "--subnet": o.subnetIndex = Number(val()); break;
      case "--keep-pods": o.keepPods = true; break;
      case "--taint": {
        const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(val());
        if (!m) throw new Error(`--taint expects key[=value]:NoSchedule|PreferNoSchedule|NoExecute, got ${argv[i]}`);
        (o.taints ??= []).push({ key: m[1]!, ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3]! });
        break;
      }
      case "--image": {
        const [name, dir] = val().split("=", 2);
        if (!name || !dir) throw new Error(`--image expects <name>=<dir>, got ${argv[i]}`);
        images[name] = resolve(dir);
        break;
      }
      default: throw new Error(`unknown flag ${flag}`);
    }
  }
  if (Object.keys(images).length > 0) o.images = images;
  return o;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const agent = await startNodeAgent(opts);
  console.log(`node agent ${agent.nodeName} ready`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void agent.stop({ keepPods: opts.keepPods }).then(
      () => process.exit(0),
      (err: Error) => {
        console.error(`node agent stop failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: Error) => {
    console.error(`node agent failed: ${err.message}`);
    process.exit(1);
  });
}
