// workerd: the vectors are bundled in (a worker cannot read files) as the module
// "kallima-test-vectors"; any request answers the report.
import vectorFile from "kallima-test-vectors";
import { checkVectors } from "./check-vectors.js";

export default {
  async fetch(): Promise<Response> {
    return Response.json(await checkVectors(vectorFile));
  },
};
