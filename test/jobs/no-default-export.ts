// Test job without a default export: submission must fail naming the module.
import type { StreamEnvironment } from "weir";

export function build(env: StreamEnvironment): void {
  env.fromSequence(1, 10).print();
}
