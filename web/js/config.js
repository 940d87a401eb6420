// The stage's configuration, written by the server that serves the portal (`/config.json`):
// the API, the Cognito endpoint, the region, the app client and whether this is the local stack.
let config = null;

export async function loadConfig() {
  if (config) return config;
  const answer = await fetch("config.json", { cache: "no-store" });
  if (!answer.ok) throw new Error("configuration introuvable");
  config = await answer.json();
  return config;
}

export function getConfig() {
  return config;
}
