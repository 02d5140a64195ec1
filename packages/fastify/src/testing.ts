// Test helpers from the core (signed deliveries, event fixtures), so that apps import them from
// the one package they installed.
export * from "@kallima/webhooks/testing";
