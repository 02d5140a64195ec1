/** The demo secret of the examples contract: for local demos only. */
export const DEMO_SECRET = "whsec_kallimaDemoSecret_notForProduction_01";

/** Configuration loaded by `ConfigModule`: the webhook secret, or the demo secret with a warning. */
export function kallimaConfig(): { KALLIMA_WEBHOOK_SECRET: string } {
  const secret = process.env.KALLIMA_WEBHOOK_SECRET;
  if (secret) return { KALLIMA_WEBHOOK_SECRET: secret };
  console.warn(
    `KALLIMA_WEBHOOK_SECRET is not set: using the demo secret ${DEMO_SECRET}. Never use it in production.`,
  );
  return { KALLIMA_WEBHOOK_SECRET: DEMO_SECRET };
}
