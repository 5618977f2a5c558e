/**
 * Query 2, selection: `SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0`.
 */
import { bidSelection } from "./views.js";

export const q2 = bidSelection({
  name: "q2",
  description: "selection: (auction, price) of bids on auctions whose id is a multiple of 123",
  goalPerCore: 400_000,
  keep: (b) => b.auction % 123 === 0,
  project: (b) => [b.auction, b.price],
});
