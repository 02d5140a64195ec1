/** The demo secret of the examples contract: for local demos only. */
export const DEMO_SECRET = "whsec_kallimaDemoSecret_notForProduction_01";

/**
 * Configuration loaded by `ConfigModule`: the webhook secrets (several, comma-separated, during a
 * rotation: "whsec_new,whsec_old"), or the demo secret with a warning.
 */
export function kallimaConfig(): { KALLIMA_WEBHOOK_SECRET: string[] } {
  const secrets = (process.env.KALLIMA_WEBHOOK_SECRET ?? "")
    .split(",")
    .map((secret) => secret.trim())
    .filter((secret) => secret !== "");
  if (secrets.length > 0) return { KALLIMA_WEBHOOK_SECRET: secrets };
  console.warn(
    `KALLIMA_WEBHOOK_SECRET is not set: using the demo secret ${DEMO_SECRET}. Never use it in production.`,
  );
  return { KALLIMA_WEBHOOK_SECRET: [DEMO_SECRET] };
}
