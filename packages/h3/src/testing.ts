// Signing helpers and event fixtures for tests: `@kallima/webhooks-h3/testing`, so that tests
// import from the one package installed.
export * from "@kallima/webhooks/testing";
