// « Mes préférences »: how Génération tells the member that something happened.
import { h, heading, replace, uid } from "../dom.js";
import { get, put, getCatalog } from "../api.js";
import { guard } from "../submit.js";

const CHOICES = [
  ["email", "Être prévenu(e) par e-mail quand une demande avance"],
  ["sms", "Être prévenu(e) par SMS (jamais la nuit)"],
  ["paperless", "Zéro papier : recevoir mes courriers dans mon espace uniquement"],
];

// Where the member changes their contact details: that démarche, named as the catalogue names it.
const CONTACT_DETAILS = "vie.coordonnees";

// SMS reach a mobile only (`GET /me`: `sms_reachable`, the server's one rule): without one the
// member learns it here, before saving; turning SMS on anyway is refused (422 on `sms`), and
// the refusal is shown next to the box as every field's.
function noMobileHint(id, catalog) {
  const demarche = catalog.categories.flatMap((c) => c.types).find((t) => t.type === CONTACT_DETAILS);
  return h("p", { class: "aide case-aide", id },
    "Aucun numéro de portable enregistré : ajoutez-en un par la démarche « ",
    h("a", { href: `#/demarches/${CONTACT_DETAILS}` }, demarche.label), " » pour recevoir des SMS.");
}

export async function renderPreferences(main) {
  const [current, me, catalog] = await Promise.all([get("/me/preferences"), get("/me"), getCatalog()]);
  const boxes = {};
  const status = h("p", { class: "succes", role: "status" });
  const form = h("form", { class: "formulaire", novalidate: true, dataset: { failure: "Vos préférences n'ont pas pu être enregistrées :" } },
    h("fieldset", { class: "groupe" }, h("legend", {}, "Mes notifications et courriers"),
      CHOICES.map(([code, label]) => {
        const id = uid("pref");
        boxes[code] = h("input", { type: "checkbox", id, name: code });
        boxes[code].checked = Boolean(current[code]);
        const hint = code === "sms" && !me.sms_reachable ? noMobileHint(uid("aide"), catalog) : null;
        if (hint) boxes[code].setAttribute("aria-describedby", hint.id);
        return h("div", { class: "champ", dataset: { field: code } },
          h("div", { class: "case" }, boxes[code], h("label", { for: id }, label)), hint);
      })),
    h("button", { type: "submit", class: "principal" }, "Enregistrer"), status);
  guard(form, async () => {
    status.textContent = "";
    const saved = await put("/me/preferences", Object.fromEntries(CHOICES.map(([code]) => [code, boxes[code].checked])));
    for (const [code] of CHOICES) boxes[code].checked = saved[code];
    status.textContent = "Vos préférences sont enregistrées."; // its `role="status"` says it
  });
  replace(main, h("div", { class: "page etroite" }, heading("Mes préférences"), form));
}
