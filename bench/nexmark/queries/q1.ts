/**
 * Query 1, currency conversion: q0's columns with `price = 0.908 * price` as DECIMAL(23, 3).
 *
 * The price is `price * 908 / 1000`: the product is an exact integer (prices stay below 2^53 / 908) and
 * one correctly rounded division gives the double nearest to the exact decimal, which has at most 3
 * decimals and 14 significant digits, so `JSON.stringify` prints exactly that decimal (without
 * trailing zeros: 90.8, not 90.800). Stream and brute force share the function, so rows are identical.
 */
import { bidSelection } from "./views.js";

/** Dollars to euros, exact to the thousandth. */
export const toEuro = (price: number): number => (price * 908) / 1000;

export const q1 = bidSelection({
  name: "q1",
  description: "currency conversion: every bid with price * 0.908 (3 decimals)",
  goalPerCore: 400_000,
  project: (b) => [b.auction, b.bidder, toEuro(b.price), b.dateTime, b.extra],
});
