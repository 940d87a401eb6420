// Sign-in against the stage's Cognito user pool, from the browser: InitiateAuth with
// USER_PASSWORD_AUTH, then RespondToAuthChallenge for a SOFTWARE_TOKEN_MFA code. The API wants
// the ID token; it lives in sessionStorage (gone with the tab) and nowhere else.
import { getConfig } from "./config.js";

const KEY = "generation.session";

export class SignInError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function cognito(action, body) {
  const config = getConfig();
  let answer;
  try {
    answer = await fetch(config.cognito_endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
      },
      body: JSON.stringify(body),
    });
  } catch {
    throw new SignInError("network", "Le service de connexion ne répond pas. Réessayez dans un instant.");
  }
  const json = await answer.json().catch(() => ({}));
  if (!answer.ok) {
    const type = String(json.__type || "").split("#").pop();
    const messages = {
      NotAuthorizedException: "Identifiant ou mot de passe incorrect.",
      UserNotFoundException: "Identifiant ou mot de passe incorrect.",
      CodeMismatchException: "Code incorrect. Saisissez le code à 6 chiffres affiché par votre application.",
      ExpiredCodeException: "Ce code a expiré. Saisissez le nouveau code.",
      TooManyRequestsException: "Trop de tentatives. Réessayez dans quelques minutes.",
      PasswordResetRequiredException: "Votre mot de passe doit être réinitialisé : contactez le service adhérents.",
    };
    throw new SignInError(type, messages[type] || "La connexion a échoué. Réessayez.");
  }
  return json;
}

// Returns {signedIn: true} or {challenge, session, username} when Cognito asks for more.
export async function signIn(username, password) {
  const answer = await cognito("InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: getConfig().client_id,
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
  return settle(answer, username);
}

export async function answerMfa(pending, code) {
  const answer = await cognito("RespondToAuthChallenge", {
    ChallengeName: "SOFTWARE_TOKEN_MFA",
    ClientId: getConfig().client_id,
    Session: pending.session,
    ChallengeResponses: { USERNAME: pending.username, SOFTWARE_TOKEN_MFA_CODE: code },
  });
  return settle(answer, pending.username);
}

function settle(answer, username) {
  if (answer.AuthenticationResult) {
    const token = answer.AuthenticationResult.IdToken;
    sessionStorage.setItem(KEY, JSON.stringify({ token, claims: decode(token) }));
    return { signedIn: true };
  }
  return { challenge: answer.ChallengeName, session: answer.Session, username };
}

function decode(token) {
  const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

export function session() {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  const stored = JSON.parse(raw);
  if (!stored.claims.exp || stored.claims.exp * 1000 < Date.now()) {
    expire();
    return null;
  }
  return stored;
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

// The session ended on its own (the ID token's hour, a 401): the sign-in page says so, and
// the member comes back to the screen they were on, with what they had typed in its form
// (files aside: a browser gives them back to no script).
const EXPIRED = "generation.expired";

export function expire() {
  if (!sessionStorage.getItem(KEY)) return;
  signOut();
  const values = [];
  for (const field of document.querySelectorAll("main form [name]")) {
    if (field.type === "file" || field.type === "password" || field.type === "submit") continue;
    values.push({ name: field.name, value: field.value, checked: field.checked });
  }
  sessionStorage.setItem(EXPIRED, JSON.stringify({ hash: window.location.hash, values }));
}

export function expiredSession() {
  const raw = sessionStorage.getItem(EXPIRED);
  return raw ? JSON.parse(raw) : null;
}

export function forgetExpiredSession() {
  sessionStorage.removeItem(EXPIRED);
}

export function isMember() {
  return Boolean(memberId());
}

// The signed-in account's own member file, if it has one (an agent may be a member too).
export function memberId() {
  const current = session();
  return (current && current.claims["custom:member_id"]) || null;
}

// The services whose work lists this account may read (groups `agent-<service>`).
export function agentServices() {
  const current = session();
  const groups = (current && current.claims["cognito:groups"]) || [];
  return groups.filter((g) => g.startsWith("agent-")).map((g) => g.slice("agent-".length));
}
