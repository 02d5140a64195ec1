// workerd: the vectors are bundled in (a worker cannot read files); any request answers the report.
import { vectors } from "kallima-test-vectors";
import { checkVectors } from "./check-vectors.mjs";

export default {
  async fetch() {
    return Response.json(await checkVectors(vectors));
  },
};
