// Test job whose map function throws on one record: the job must fail naming the operator and the error.
import type { StreamEnvironment } from "weir";

export default (env: StreamEnvironment) => {
  env
    .fromSequence(1, 100_000)
    .map((n) => {
      if (n === 77_777) throw new Error(`cannot parse record ${n}`);
      return n;
    })
    .name("Parse")
    .print();
};
