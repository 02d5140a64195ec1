// Key names of the Redis store; internal (not exported from the package), shared with the tests.

/**
 * The key of a claim token's tombstone, in the same Redis Cluster hash slot as the event's key
 * (a script may only touch keys of one slot). A key with a hash tag (`{…}`) keeps it when
 * extended; a key without braces is its own hash tag in braces. A key with braces but no valid
 * tag (`a}b`, `x{}y`) has no such name that starts with it: its claims go without a tombstone.
 */
export function tombstoneKey(key: string, token: string): string | undefined {
  const base = `${key}:void:${token}`;
  const open = key.indexOf("{");
  if (open >= 0 && key.indexOf("}", open + 1) > open + 1) return base;
  if (!key.includes("{") && !key.includes("}")) return `${base}:{${key}}`;
  return undefined;
}
