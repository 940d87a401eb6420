// The API, as API.md and `GET /openapi.json` describe it: JSON, the ID token as bearer, and
// every error in one shape {error: {code, message, fields: [{field, message}]}}.
import { getConfig } from "./config.js";
import { session, expire } from "./auth.js";

export class ApiError extends Error {
  constructor(status, error, headers) {
    super(error.message || "La demande n'a pas abouti.");
    this.status = status;
    this.code = error.code;
    this.fields = error.fields || [];
    this.headers = headers;
  }
}

export async function api(method, path, { body, query, headers = {} } = {}) {
  const current = session();
  const url = new URL(getConfig().api_url.replace(/\/+$/, "") + path); // `…/prod/` + `/requests`
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const sent = { ...headers };
  if (current) sent.Authorization = `Bearer ${current.token}`;
  if (body !== undefined) sent["Content-Type"] = "application/json";
  let answer;
  try {
    answer = await fetch(url, { method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { code: "network", message: "Le service ne répond pas. Vérifiez votre connexion et réessayez." });
  }
  const text = await answer.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null; // not ours (a proxy's page): said below as a failure, never as a script error
  }
  if (!answer.ok) {
    if (answer.status === 401) {
      expire();
      window.location.hash = "#/connexion";
    }
    const error = (json && json.error) || { code: "http_" + answer.status, message: "La demande n'a pas abouti." };
    if (answer.status === 429 && !(json && json.error)) {
      // A limit of ours says which and until when (API.md, "Limits"): its words are kept.
      error.message = "Trop d'envois pour le moment. Réessayez plus tard.";
    }
    throw new ApiError(answer.status, error, answer.headers);
  }
  return json;
}

export const get = (path, query) => api("GET", path, { query });
export const post = (path, body, headers) => api("POST", path, { body, headers });
export const put = (path, body) => api("PUT", path, { body });

// The catalogue changes with a release, not during a visit: read once.
let catalog = null;
export async function getCatalog() {
  if (!catalog) catalog = await get("/catalog");
  return catalog;
}

export function statusOf(catalogue, code) {
  return catalogue.statuses.find((s) => s.code === code) || { code, label: code, icon: "sablier" };
}
