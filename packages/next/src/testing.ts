// Test helpers (signed requests, typed sample events), from this one package.
export * from "@kallima/webhooks/testing";
