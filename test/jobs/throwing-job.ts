// Test job whose job function throws while building the graph.
import type { StreamEnvironment } from "weir";

export default (_env: StreamEnvironment) => {
  throw new Error("the topic list is empty");
};
