// Test helpers (signed deliveries, event fixtures) from the one package: `@kallima/webhooks-nest/testing`.
export * from "@kallima/webhooks/testing";
