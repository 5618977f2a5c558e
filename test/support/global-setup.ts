/**
 * Once before the runtime suites: build the S3 server (versitygw, from Go modules; cached in
 * .cluster/bin) so that suites starting one in parallel do not each build it.
 */
import { ensureBuilt } from "../cluster/build.js";
import { VERSITYGW_MODULE } from "./s3.js";

export default async function setup(): Promise<void> {
  await ensureBuilt(VERSITYGW_MODULE, { log: (s) => process.stderr.write(s + "\n") });
}
