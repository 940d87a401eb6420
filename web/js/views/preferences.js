// « Mes préférences »: how Génération tells the member that something happened.
import { h, heading, replace, uid, announce } from "../dom.js";
import { get, put } from "../api.js";
import { guard } from "../submit.js";

const CHOICES = [
  ["email", "Être prévenu(e) par e-mail quand une demande avance"],
  ["sms", "Être prévenu(e) par SMS (jamais la nuit)"],
  ["paperless", "Zéro papier : recevoir mes courriers dans mon espace uniquement"],
];

export async function renderPreferences(main) {
  const current = await get("/me/preferences");
  const boxes = {};
  const status = h("p", { class: "succes", role: "status" });
  const form = h("form", { class: "formulaire", novalidate: true },
    h("fieldset", { class: "groupe" }, h("legend", {}, "Mes notifications et courriers"),
      CHOICES.map(([code, label]) => {
        const id = uid("pref");
        boxes[code] = h("input", { type: "checkbox", id, name: code });
        boxes[code].checked = Boolean(current[code]);
        return h("div", { class: "champ case", dataset: { field: code } }, boxes[code], h("label", { for: id }, label));
      })),
    h("button", { type: "submit", class: "principal" }, "Enregistrer"), status);
  guard(form, async () => {
    status.textContent = "";
    const saved = await put("/me/preferences", Object.fromEntries(CHOICES.map(([code]) => [code, boxes[code].checked])));
    for (const [code] of CHOICES) boxes[code].checked = saved[code];
    status.textContent = "Vos préférences sont enregistrées.";
    announce("Vos préférences sont enregistrées.");
  });
  replace(main, h("div", { class: "page etroite" }, heading("Mes préférences"), form));
}
