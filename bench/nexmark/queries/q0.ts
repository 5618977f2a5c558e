/**
 * Query 0, pass-through: `SELECT auction, bidder, price, dateTime, extra FROM bid`. Measures the source
 * and the framework; 92 % of the events reach the sink.
 */
import { bidSelection } from "./views.js";

export const q0 = bidSelection({
  name: "q0",
  description: "pass-through: every bid (auction, bidder, price, dateTime, extra)",
  goalPerCore: 400_000,
  project: (b) => [b.auction, b.bidder, b.price, b.dateTime, b.extra],
});
