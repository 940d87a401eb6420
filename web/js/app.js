// The portal's entry point: loads the stage's configuration, then a small hash router
// (`#/suivi/<id>`…) renders one screen at a time into <main> and moves the focus to its title.
import { loadConfig } from "./config.js";
import { session, signOut, isMember, agentServices, expiredSession, forgetExpiredSession } from "./auth.js";
import { h, replace, focusHeading, announce, titleFrom } from "./dom.js";
import { forgetBeneficiaries } from "./beneficiaries.js";
import { renderSignIn } from "./views/signin.js";
import { renderCatalog, renderDemarche } from "./views/demarches.js";
import { renderSuivi } from "./views/suivi.js";
import { renderCourriers } from "./views/courriers.js";
import { renderEchanger } from "./views/echanger.js";
import { renderProfessionnels } from "./views/professionnels.js";
import { renderPreferences } from "./views/preferences.js";
import { renderInformations } from "./views/informations.js";
import { renderDonnees } from "./views/donnees.js";
import { renderConsole, renderDossier } from "./views/console.js";

const main = document.getElementById("contenu");
let routing = 0;

const TITLES = {
  connexion: "Connexion", demarches: "Mes démarches", suivi: "Le suivi des demandes",
  courriers: "Mes courriers et documents", echanger: "Échanger avec Génération",
  professionnels: "Professionnels partenaires", preferences: "Mes préférences",
  informations: "Mes informations", donnees: "Mes données personnelles",
  console: "Console des services",
};

function parse() {
  const raw = window.location.hash.replace(/^#\/?/, "");
  const [path, search] = raw.split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(search || "") };
}

async function route() {
  const { parts, params } = parse();
  const [screen = "", ...rest] = parts;
  const current = session();
  const menu = document.getElementById("menu");
  if (!current) {
    menu.hidden = true;
    forgetBeneficiaries();
    document.title = "Connexion — Génération";
    renderSignIn(main);
    focusHeading(main);
    if (screen !== "connexion") window.history.replaceState(null, "", "#/connexion");
    return;
  }
  menu.hidden = false;
  for (const item of menu.querySelectorAll("li")) {
    const link = item.querySelector("[data-nav]");
    if (!link) continue;
    const agentOnly = item.hasAttribute("data-agent");
    item.hidden = agentOnly ? agentServices().length === 0 : !isMember();
  }
  for (const link of menu.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === screen) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const home = isMember() ? "demarches" : "console";
  const target = screen === "" || screen === "connexion" ? home : screen;
  titleFrom(TITLES[target]); // until the screen's own heading is known
  // Each screen renders into its own element, shown only if no later navigation began
  // meanwhile: a slow answer never paints over the screen the member went on to.
  const generation = ++routing;
  const keep = target === "suivi" && rest.length > 0 && main.querySelector(".suivi");
  const screenEl = keep ? main : h("div", { class: "ecran" });
  try {
    switch (target) {
      case "demarches": await (rest[0] ? renderDemarche(screenEl, rest[0]) : renderCatalog(screenEl)); break;
      case "suivi": await renderSuivi(screenEl, rest[0]); break;
      case "courriers": await renderCourriers(screenEl); break;
      case "echanger": await renderEchanger(screenEl, params); break;
      case "professionnels": await renderProfessionnels(screenEl); break;
      case "preferences": await renderPreferences(screenEl); break;
      case "informations": await renderInformations(screenEl); break;
      case "donnees": await renderDonnees(screenEl); break;
      case "console":
        await (rest[0] === "dossier" ? renderDossier(screenEl, rest[1], rest[2], params.get("reclamation")) : renderConsole(screenEl, rest[0], rest[1]));
        break;
      default:
        replace(screenEl, h("div", { class: "page" }, h("h1", { class: "titre-page", tabindex: "-1" }, "Page introuvable"),
          h("p", {}, h("a", { href: `#/${home}` }, "Revenir à l'accueil"))));
    }
  } catch (error) {
    if (generation === routing) showFailure(error);
    return;
  }
  if (generation !== routing) return;
  if (!keep) {
    main.replaceChildren(screenEl);
    focusHeading(main);
    // The page's subject (a request shown beside the timeline), its heading, its part.
    const subject = main.querySelector("[data-sujet]");
    const title = main.querySelector(".titre-page");
    titleFrom(subject && subject.dataset.sujet, title && title.textContent, TITLES[target]);
  }
  main.dataset.ecran = target;
  const draft = expiredSession();
  if (draft) {
    forgetExpiredSession();
    if (draft.hash === window.location.hash) restoreDraft(draft.values);
  }
}

// What the member had typed when their session expired, back in the same screen's form.
function restoreDraft(values) {
  for (const saved of values) {
    for (const field of main.querySelectorAll(`form [name="${CSS.escape(saved.name)}"]`)) {
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.value === saved.value) field.checked = saved.checked;
      } else {
        field.value = saved.value;
      }
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
  announce("Votre saisie a été conservée.");
}

function showFailure(error) {
  if (error && error.status === 401) return;
  replace(main, h("div", { class: "page" },
    h("h1", { class: "titre-page", tabindex: "-1" }, "Un problème est survenu"),
    h("p", { role: "alert", class: "alerte" }, (error && error.message) || "La page n'a pas pu être affichée."),
    h("p", {}, h("a", { href: "#/" }, "Revenir à l'accueil"))));
  titleFrom("Un problème est survenu");
  focusHeading(main);
}

// An action outside a form (a download, a withdrawal) that fails says so, in an alert, until
// the member acts again: a failure said above a withdrawal that went through on a second try
// would contradict the page.
document.addEventListener("click", (event) => {
  if (event.target.closest && event.target.closest("button, a")) {
    const old = document.querySelector(".bandeau-erreur");
    if (old) old.remove();
  }
}, true);
window.addEventListener("unhandledrejection", (event) => {
  const old = document.querySelector(".bandeau-erreur");
  if (old) old.remove();
  const banner = h("p", { class: "alerte bandeau-erreur", role: "alert", tabindex: "-1" },
    (event.reason && event.reason.message) || "L'action n'a pas abouti.");
  main.prepend(banner);
  banner.focus(); // at the top of the page, maybe out of sight: brought into view
});

document.getElementById("deconnexion").addEventListener("click", () => {
  signOut();
  window.location.hash = "#/connexion";
});

// « Aller au contenu » takes the focus to the page's title and leaves the route as it is: its
// `#contenu` was taken for a route (« Page introuvable », what the member had typed lost).
document.querySelector(".skip").addEventListener("click", (event) => {
  event.preventDefault();
  const title = main.querySelector(".titre-page");
  (title || main).focus();
});

// Only `#/…` is a route: any other fragment (a link within a page) changes no screen.
window.addEventListener("hashchange", () => {
  if (window.location.hash === "" || window.location.hash.startsWith("#/")) route();
});
loadConfig().then(route, () => {
  replace(main, h("p", { role: "alert", class: "alerte" }, "Le portail n'est pas configuré pour cette adresse."));
});
