/** A usage error found after parsing (a missing file, an address that cannot be resolved): `weir` exits 2. */
export class UsageError extends Error {}
