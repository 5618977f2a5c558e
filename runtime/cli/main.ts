/**
 * The `weir` command. Usage errors (unknown flags, missing or malformed arguments) exit with status 2
 * and the usage text; job failures exit with 1.
 */
import { resolve } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { VERSION } from "../common/version.js";
import { WeirError } from "../common/errors.js";
import { runCommand } from "./run.js";
import { UsageError } from "./usage-error.js";
import { jobManagerCommand, taskManagerCommand } from "./components.js";
import { cancelCommand, checkpointsCommand, listCommand, savepointCommand, stopCommand } from "./client-commands.js";
import { addOperatorCommand } from "../../operator/main.js";

/** Exit status for usage errors, as in most Unix tools. */
export const EXIT_USAGE = 2;

function positiveInt(name: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got "${raw}"`);
    return n;
  };
}

function port(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`port must be an integer 0..65535, got "${raw}"`);
  return n;
}

function jobIdArg(raw: string): string {
  if (!/^[0-9a-f]{32}$/.test(raw)) throw new InvalidArgumentError(`--job-id must be 32 lowercase hex digits, got "${raw}"`);
  return raw;
}

const collect = (v: string, prev: string[]) => [...prev, v];
const FROM_LATEST_CHECKPOINT_HELP =
  "start from the newest completed checkpoint in this job checkpoint directory (<state.checkpoints.dir>/<job id>); " +
  "when it holds none, from --from-savepoint; when that is not given either, fail";
const configOption = () => new Option("--config <key=value>", "runtime configuration override (repeatable)").argParser(collect).default([]);

function buildProgram(setCode: (code: number) => void): Command {
  const program = new Command("weir")
    .description("Weir: Kubernetes-native stream processing in TypeScript")
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command("run")
    .description("run a job module on an embedded local cluster (a JobManager and TaskManager processes on loopback)")
    .argument("<module>", "job module (.ts or .js) whose default export builds the dataflow")
    .argument("[args...]", "arguments for the job, after --")
    .option("-p, --parallelism <n>", "default operator parallelism", positiveInt("--parallelism"), 1)
    .option("-m, --taskmanagers <n>", "TaskManager processes (default: min(parallelism, cores))", positiveInt("--taskmanagers"))
    .option("-s, --slots <n>", "slots per TaskManager (default: enough for the parallelism)", positiveInt("--slots"))
    .option("--log-dir <dir>", "directory for process logs (default: .weir/logs/<time>)")
    .option("--no-progress", "do not show the progress line")
    .option("--from-savepoint <path>", "start from a savepoint or retained checkpoint (its directory or _metadata; file:// or s3://)")
    .option("--from-latest-checkpoint <dir>", FROM_LATEST_CHECKPOINT_HELP)
    .option("--allow-non-restored-state", "skip state of operators the job no longer has instead of refusing to start")
    .addOption(configOption())
    .exitOverride()
    .action(async (module: string, args: string[], opts) => setCode(await runCommand(module, args, opts)));

  program
    .command("jobmanager")
    .description("run a JobManager (what the JobManager pod runs)")
    .option("--host <address>", "address to bind and advertise (default: $WEIR_HOST, $POD_IP)")
    .option("--rpc-port <port>", "control port for TaskManagers", port, 6123)
    .option("--rest-port <port>", "REST API port", port, 8081)
    .option("--job <module>", "application mode: submit this job module at start (its arguments after --)")
    .option("--job-id <hex32>", "a fixed id for the application job (its checkpoints are found under it after a redeploy)", jobIdArg)
    .option("-p, --parallelism <n>", "the application job's default parallelism", positiveInt("--parallelism"))
    .option("--from-savepoint <path>", "start the application job from a savepoint or retained checkpoint")
    .option("--from-latest-checkpoint <dir>", FROM_LATEST_CHECKPOINT_HELP)
    .option("--allow-non-restored-state", "skip snapshot state of operators the job no longer has")
    .addHelpText(
      "after",
      "\nThe application job starts from, in this order: its own latest checkpoint when <state.checkpoints.dir>/<job-id>\n" +
        "holds completed ones (a restarted JobManager resumes its job), the latest completed checkpoint in\n" +
        "--from-latest-checkpoint, --from-savepoint; else with empty state.",
    )
    .argument("[args...]", "the application job's arguments, after --")
    .addOption(configOption())
    .exitOverride()
    .action(async (args: string[], opts) => {
      if (!opts.job && (args.length > 0 || opts.jobId || opts.parallelism || opts.fromSavepoint || opts.fromLatestCheckpoint || opts.allowNonRestoredState)) {
        throw new UsageError("--job-id, --parallelism, --from-savepoint, --from-latest-checkpoint, --allow-non-restored-state and job arguments need --job <module>");
      }
      const job = opts.job
        ? {
            module: resolve(opts.job),
            args,
            jobId: opts.jobId,
            parallelism: opts.parallelism,
            fromSavepoint: opts.fromSavepoint,
            fromLatestCheckpoint: opts.fromLatestCheckpoint,
            allowNonRestoredState: opts.allowNonRestoredState,
          }
        : undefined;
      setCode(await jobManagerCommand({ ...opts, job }));
    });

  program
    .command("taskmanager")
    .description("run a TaskManager (what TaskManager pods run)")
    .requiredOption("--jobmanager <host:port>", "the JobManager's control address")
    .option("--host <address>", "address to bind and advertise (default: $WEIR_HOST, $POD_IP)")
    .option("--data-port <port>", "data port", port, 0)
    .option("--metrics-port <port>", "Prometheus port", port, 0)
    .option("-s, --slots <n>", "task slots", positiveInt("--slots"), 1)
    .addOption(configOption())
    .exitOverride()
    .action(async (opts) => setCode(await taskManagerCommand(opts)));

  addOperatorCommand(program, port, positiveInt, setCode);

  const jmUrl = () => new Option("--jobmanager <url>", "JobManager REST URL").env("WEIR_JOBMANAGER_URL").default("http://127.0.0.1:8081");
  program
    .command("list")
    .description("list the jobs of a JobManager")
    .addOption(jmUrl())
    .exitOverride()
    .action(async (opts) => setCode(await listCommand(opts.jobmanager)));
  program
    .command("cancel")
    .description("cancel a job")
    .argument("<job-id>")
    .addOption(jmUrl())
    .exitOverride()
    .action(async (jobId: string, opts) => setCode(await cancelCommand(opts.jobmanager, jobId)));
  addSnapshotCommands(program, jmUrl, setCode);
  return program;
}

/** `weir savepoint`, `weir stop` and `weir checkpoints`. */
function addSnapshotCommands(program: Command, jmUrl: () => Option, setCode: (code: number) => void): void {
  const timeout = () =>
    new Option("--timeout <ms>", "give up waiting for the savepoint after this long").argParser(positiveInt("--timeout")).default(600_000);
  program
    .command("savepoint")
    .description("take a savepoint of a running job and print its path")
    .argument("<job-id>")
    .argument("[target-directory]", "where the savepoint goes (file:// or s3:// URL; default: the JobManager's state.savepoints.dir)")
    .addOption(jmUrl())
    .addOption(timeout())
    .exitOverride()
    .action(async (jobId: string, dir: string | undefined, opts) =>
      setCode(await savepointCommand(opts.jobmanager, jobId, dir, { timeoutMs: opts.timeout })),
    );
  program
    .command("stop")
    .description("stop a job with a savepoint (its sinks commit) and print the savepoint's path")
    .argument("<job-id>")
    .option("--savepoint-dir <dir>", "where the savepoint goes (default: the JobManager's state.savepoints.dir)")
    .option("--drain", "emit MAX_WATERMARK first, firing all event-time timers and windows", false)
    .addOption(jmUrl())
    .addOption(timeout())
    .exitOverride()
    .action(async (jobId: string, opts) =>
      setCode(await stopCommand(opts.jobmanager, jobId, { savepointDir: opts.savepointDir, drain: opts.drain, timeoutMs: opts.timeout })),
    );
  program
    .command("checkpoints")
    .description("show a job's recent checkpoints and savepoints")
    .argument("<job-id>")
    .addOption(jmUrl())
    .exitOverride()
    .action(async (jobId: string, opts) => setCode(await checkpointsCommand(opts.jobmanager, jobId)));
}

/** Run the CLI with `argv` (without node and script); resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help") return 0;
      return EXIT_USAGE;
    }
    if (err instanceof UsageError || (err instanceof WeirError && err.code === "WEIR_E_CONFIG")) {
      process.stderr.write(`error: ${err.message}\n(run "weir --help" for usage)\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}
