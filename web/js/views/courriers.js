// « Mes courriers et documents »: the letters of the last 1, 3, 6, 12 or 24 months; a letter
// opens as PDF (a presigned GET, valid a few minutes, fetched when it is asked for).
import { h, heading, replace, uid, announce, formatDate, formatSize } from "../dom.js";
import { get } from "../api.js";

const PERIODS = [
  [1, "Le dernier mois"], [3, "Les 3 derniers mois"], [6, "Les 6 derniers mois"],
  [12, "Les 12 derniers mois"], [24, "Les 24 derniers mois"],
];

// A letter's PDF: its link asked for on the click (`path`: the member's route, or the agents'
// for a request's letter), then followed.
export async function openDownload(documentId, path = `/documents/${documentId}/download`) {
  const link = await get(path);
  const a = h("a", { href: link.url, rel: "noopener" });
  document.body.append(a);
  a.click();
  a.remove();
}

export async function renderCourriers(main) {
  const id = uid("champ");
  const select = h("select", { id, name: "months" }, PERIODS.map(([n, label]) => h("option", { value: String(n) }, label)));
  select.value = "24";
  const list = h("div", { class: "documents" }); // not live: `announce` says how many
  const form = h("form", { class: "filtres", novalidate: true },
    h("div", { class: "champ" }, h("label", { for: id }, "Période"), select),
    h("button", { type: "submit" }, "Afficher"));
  replace(main, h("div", { class: "page" },
    heading("Mes courriers et documents"),
    h("p", { class: "chapo" }, "Retrouvez, au format PDF, les courriers que nous vous adressons en réponse à vos demandes."),
    form, list));
  async function load() {
    const answer = await get("/documents", { months: select.value });
    replace(list, answer.documents.length
      ? h("ul", { class: "liste-documents" }, answer.documents.map((d) => h("li", {},
        h("span", { class: "titre" }, d.title),
        h("span", { class: "date" }, formatDate(d.created_at)),
        h("span", { class: "taille" }, `PDF, ${formatSize(d.size)}`),
        h("button", { type: "button", class: "secondaire", dataset: { document: d.document_id },
          "aria-label": `Ouvrir le PDF « ${d.title} » du ${formatDate(d.created_at)}`,
          onclick: () => openDownload(d.document_id) }, "Ouvrir le PDF"))))
      : h("p", {}, "Aucun courrier sur cette période."));
    return answer.documents.length;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const count = await load();
    announce(`${count} document${count > 1 ? "s" : ""} sur la période.`);
  });
  await load();
}
