// The model catalogue (GET /api/v1/models), read once per page load: models only change
// when the server restarts with other plugins.

import { get } from "./api.js";

let models = null;

export async function loadModels() {
  models ??= get("/api/v1/models").catch((error) => {
    models = null; // let the next view try again
    throw error;
  });
  return models;
}
