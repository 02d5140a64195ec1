// The tests run Koa 2 through the `koa2` alias (npm:koa@^2); the calls they make have the same
// types in Koa 2 and 3, so the alias borrows the installed @types/koa.
declare module "koa2" {
  import Koa from "koa";
  export default Koa;
}
