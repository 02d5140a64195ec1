// The tests run Express 4 through the `express4` alias (npm:express@^4); the calls they make
// have the same types in @types/express 4 and 5, so the alias borrows the installed ones.
declare module "express4" {
  import express from "express";
  export default express;
}
