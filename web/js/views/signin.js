import { h, heading, replace, uid } from "../dom.js";
import { getConfig } from "../config.js";
import { answerMfa, signIn, isMember, expiredSession } from "../auth.js";
import { showErrors, clearErrors } from "../errors.js";

const SIGN_IN_FAILED = "La connexion n'a pas abouti :";

export function renderSignIn(main) {
  const config = getConfig();
  const userId = uid("champ");
  const passwordId = uid("champ");
  const form = h("form", { class: "formulaire connexion", novalidate: true, dataset: { failure: SIGN_IN_FAILED } },
    h("div", { class: "champ", dataset: { field: "username" } },
      h("label", { for: userId }, "Identifiant"),
      h("input", { id: userId, name: "username", type: "text", autocomplete: "username", autocapitalize: "none", spellcheck: "false" })),
    h("div", { class: "champ", dataset: { field: "password" } },
      h("label", { for: passwordId }, "Mot de passe"),
      h("input", { id: passwordId, name: "password", type: "password", autocomplete: "current-password" })),
    h("button", { type: "submit", class: "principal" }, "Se connecter"),
  );
  const demo = config.local
    ? h("aside", { class: "encadre", "aria-labelledby": "demo-titre" },
      h("h2", { id: "demo-titre" }, "Comptes de démonstration (pile locale)"),
      h("p", {}, "Adhérents : ", h("strong", {}, "alice"), ", ", h("strong", {}, "bob"), " ; adhérente et agente du service remboursements : ",
        h("strong", {}, "claire"), " ; agent de tous les services : ", h("strong", {}, "agent"), "."),
      h("p", {}, "Mot de passe de chacun : ", h("code", {}, "Demarches-Locales-2026!")))
    : null;
  const expired = expiredSession()
    ? h("p", { role: "alert", class: "alerte" },
      "Votre session a expiré. Reconnectez-vous : vous reviendrez où vous en étiez, avec ce que vous aviez saisi (les fichiers sont à choisir à nouveau).")
    : null;
  replace(main, h("div", { class: "page etroite" },
    heading("Connexion à votre espace adhérent"),
    expired,
    h("p", {}, "Connectez-vous pour effectuer vos démarches et suivre vos demandes."),
    form, demo));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    const missing = [];
    if (!username) missing.push({ field: "username", message: "Saisissez votre identifiant." });
    if (!password) missing.push({ field: "password", message: "Saisissez votre mot de passe." });
    if (missing.length) return showErrors(form, { fields: missing });
    try {
      next(main, await signIn(username, password));
    } catch (error) {
      showErrors(form, { fields: [{ field: "password", message: error.message }] });
    }
  });
}

function next(main, result) {
  if (result.signedIn) {
    const expired = expiredSession();
    const back = expired && expired.hash && !expired.hash.startsWith("#/connexion") ? expired.hash : null;
    window.location.hash = back || (isMember() ? "#/demarches" : "#/console");
    return;
  }
  if (result.challenge === "SOFTWARE_TOKEN_MFA") return renderMfa(main, result);
  // MFA_SETUP (an account without an authenticator yet), NEW_PASSWORD_REQUIRED: the portal
  // does not enrol devices; the member services do it with the member (docs/design-notes.md).
  replace(main, h("div", { class: "page etroite" },
    heading("Connexion à votre espace adhérent"),
    h("p", { role: "alert", class: "alerte" },
      result.challenge === "MFA_SETUP"
        ? "Votre compte doit d'abord être associé à une application d'authentification. Appelez le service adhérents au 09 69 39 40 50 pour l'activer."
        : "Votre compte doit être activé par le service adhérents avant votre première connexion."),
    h("p", {}, h("a", { href: "#/connexion" }, "Revenir à la connexion"))));
}

function renderMfa(main, pending) {
  const id = uid("champ");
  const hint = `${id}-aide`;
  const form = h("form", { class: "formulaire", novalidate: true, dataset: { failure: SIGN_IN_FAILED } },
    h("div", { class: "champ", dataset: { field: "code" } },
      h("label", { for: id }, "Code de vérification"),
      h("p", { class: "aide", id: hint }, "Les 6 chiffres affichés par votre application d'authentification."),
      h("input", { id, name: "code", type: "text", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6", "aria-describedby": hint })),
    h("button", { type: "submit", class: "principal" }, "Valider"));
  replace(main, h("div", { class: "page etroite" }, heading("Vérification en deux étapes"), form));
  main.querySelector(".titre-page").focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = form.elements.code.value.trim();
    if (!/^\d{6}$/.test(code)) return showErrors(form, { fields: [{ field: "code", message: "Saisissez les 6 chiffres du code." }] });
    try {
      next(main, await answerMfa(pending, code));
    } catch (error) {
      showErrors(form, { fields: [{ field: "code", message: error.message }] });
    }
  });
}
