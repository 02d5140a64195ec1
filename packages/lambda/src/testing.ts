// Signing helpers and event fixtures for tests: `@kallima/webhooks-lambda/testing`, so that tests
// import from the one package installed.
export * from "@kallima/webhooks/testing";
