// Test job whose key selector returns undefined for some records: the job must fail naming the operator.
import type { StreamEnvironment } from "weir";

export default (env: StreamEnvironment) => {
  env
    .fromSequence(1, 1000)
    .map((n) => ({ n, group: n === 500 ? undefined : n % 3 }))
    .keyBy((r) => r.group)
    .reduce((a, b) => ({ n: a.n + b.n, group: a.group }))
    .name("Sum per group")
    .print();
};
