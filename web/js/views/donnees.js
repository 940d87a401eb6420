// « Mes données personnelles »: who at Génération consulted or acted on the member's file
// (`GET /me/access-log`: the service, never the agent), and a copy of all they hold here
// (`POST /me/exports`, then `GET /me/exports/{id}` until the archive is ready).
import { h, heading, replace, announce, formatDateTime, onePageAtATime } from "../dom.js";
import { get, post, getCatalog } from "../api.js";
import { guard } from "../submit.js";
import { followLink } from "./suivi.js";

const WAIT_MS = 2000; // between two looks at an archive being built

export async function renderDonnees(main) {
  const catalog = await getCatalog();
  const services = Object.fromEntries((catalog.services || []).map((s) => [s.code, s.label]));
  const entries = h("ol", { class: "journal" });
  const more = h("button", { type: "button", class: "secondaire", hidden: true }, "Voir plus");
  let cursor = null;
  async function load() {
    const page = await get("/me/access-log", cursor ? { cursor } : {});
    for (const entry of page.entries) {
      entries.append(h("li", { dataset: { request: entry.request_id } },
        h("span", { class: "date" }, formatDateTime(entry.at)),
        h("span", { class: "service" }, services[entry.service] || entry.service),
        h("span", { class: "action" }, entry.label),
        h("a", { href: `#/suivi/${entry.request_id}` }, "Voir la demande")));
    }
    cursor = page.next_cursor;
    more.hidden = !cursor;
    return page.entries.length;
  }
  onePageAtATime(more, async () => {
    if (!cursor) return;
    const before = entries.children.length;
    const added = await load();
    announce(`${added} consultation${added > 1 ? "s" : ""} de plus.`);
    const first = entries.children[before];
    if (first) first.querySelector("a").focus();
  });
  await load();

  const status = h("p", { role: "status" });
  const form = h("form", { class: "formulaire", novalidate: true, dataset: { failure: "L'archive n'a pas pu être préparée :" } },
    h("p", {}, "Une archive (zip) de vos données : votre profil, vos bénéficiaires, vos demandes, vos courriers et les pièces jointes encore conservées. Elle est préparée en quelques instants et reste téléchargeable 24 heures."),
    h("button", { type: "submit", class: "principal" }, "Préparer l'archive de mes données"), status);
  guard(form, async () => {
    status.replaceChildren("Préparation de votre archive…");
    let archive;
    try {
      archive = await post("/me/exports", {});
    } catch (error) {
      // One archive at a time: the one asked earlier (another visit, another tab) is still
      // being prepared. The API names it (`Location`): follow it rather than refuse.
      const building = error.status === 409 && error.headers && error.headers.get("Location");
      if (!building || !building.startsWith("/me/exports/")) throw error;
      status.replaceChildren("Une archive de vos données, demandée plus tôt, est déjà en préparation : elle vous est proposée ici dès qu'elle est prête.");
      archive = await get(building);
    }
    while (archive.status === "building") {
      await new Promise((done) => window.setTimeout(done, WAIT_MS));
      archive = await get(`/me/exports/${archive.export_id}`);
    }
    if (archive.status !== "ready") {
      status.replaceChildren("L'archive n'est plus disponible : préparez-en une nouvelle.");
      return;
    }
    // The archive stays 24 hours (`expires_at`), its link a few minutes: each click signs it
    // again (a member who came back to the tab later met S3's « Request has expired »).
    const exportId = archive.export_id;
    const link = h("a", { href: archive.url, rel: "noopener", download: "" }, "télécharger mes données (zip)");
    link.addEventListener("click", async (event) => {
      event.preventDefault();
      const fresh = await get(`/me/exports/${exportId}`);
      if (fresh.status !== "ready") {
        status.replaceChildren("L'archive n'est plus disponible : préparez-en une nouvelle.");
        return;
      }
      link.href = fresh.url;
      followLink(fresh.url);
    });
    status.replaceChildren("Votre archive est prête : ", link,
      ` (disponible jusqu'au ${formatDateTime(archive.expires_at)}).`); // said by its `role="status"`
  });

  replace(main, h("div", { class: "page" },
    heading("Mes données personnelles"),
    h("section", { "aria-labelledby": "journal-titre" },
      h("h2", { id: "journal-titre" }, "Qui a consulté mon dossier"),
      h("p", { class: "chapo" }, "Chaque fois qu'un service de Génération consulte une de vos demandes ou agit sur elle, vous le voyez ici."),
      entries.children.length ? entries : h("p", { class: "discret" }, "Personne n'a encore consulté votre dossier."),
      more),
    h("section", { "aria-labelledby": "archive-titre" },
      h("h2", { id: "archive-titre" }, "Récupérer mes données"), form)));
}
