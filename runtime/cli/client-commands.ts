/** `weir list` and `weir cancel`: thin clients of a JobManager's REST API. */
import { RestClient } from "../jobmanager/rest-client.js";

export async function listCommand(url: string): Promise<number> {
  const jobs = await new RestClient(url).listJobs();
  if (jobs.length === 0) {
    process.stdout.write("no jobs\n");
    return 0;
  }
  const rows = jobs.map((j) => [j.id, j.state, `${(j.duration / 1000).toFixed(1)}s`, j.name]);
  const widths = [32, 10, 9];
  process.stdout.write(["JOB ID".padEnd(widths[0]!), "STATE".padEnd(widths[1]!), "DURATION".padEnd(widths[2]!), "NAME"].join("  ") + "\n");
  for (const r of rows) process.stdout.write(r.map((c, i) => (i < widths.length ? c.padEnd(widths[i]!) : c)).join("  ") + "\n");
  return 0;
}

export async function cancelCommand(url: string, jobId: string): Promise<number> {
  await new RestClient(url).cancelJob(jobId);
  process.stdout.write(`canceling job ${jobId}\n`);
  return 0;
}
