// « Le suivi des demandes »: the history by month on the left (state icons of the catalogue,
// status and type filters, « Voir plus » with the cursor), a request's detail on the right.
import { h, heading, replace, uid, announce, disableWhileBusy, onePageAtATime, formatDate, formatDateTime, formatMonth, formatSize, beneficiaryNames, titleFrom } from "../dom.js";
import { get, post, getCatalog, statusOf } from "../api.js";
import { recallList } from "../schemaform.js";
import { fileField } from "../uploads.js";
import { guard, cachedUploads } from "../submit.js";
import { recallSchema } from "./demarches.js";
import { openDownload } from "./courriers.js";

const OPEN = new Set(["in_progress", "waiting_for_member"]);

export async function renderSuivi(main, requestId) {
  const catalog = await getCatalog();
  let layout = main.querySelector(".suivi");
  if (!layout) {
    layout = await buildLayout(main, catalog);
  }
  const detail = layout.querySelector(".detail");
  for (const link of layout.querySelectorAll(".frise a")) {
    if (link.dataset.request === requestId) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
  delete detail.dataset.sujet; // the page's subject, in its title (app.js)
  if (!requestId) {
    replace(detail, h("p", { class: "discret" }, "Sélectionnez une demande dans l'historique pour en afficher le détail."));
    titleFrom("Le suivi des demandes");
    return;
  }
  replace(detail, h("p", {}, "Chargement…"));
  layout.dataset.showing = requestId;
  const request = await get(`/requests/${requestId}`);
  // Another request clicked meanwhile: its detail is the one to show, not this late answer.
  if (layout.dataset.showing !== requestId) return;
  renderDetail(detail, request, catalog);
  detail.dataset.sujet = request.label;
  titleFrom(request.label, "Le suivi des demandes");
  detail.querySelector("h2").focus();
}

async function buildLayout(main, catalog) {
  const statusId = uid("champ");
  const typeId = uid("champ");
  const types = catalog.categories.flatMap((c) => c.types);
  const filters = h("form", { class: "filtres", novalidate: true },
    h("div", { class: "champ" }, h("label", { for: statusId }, "Statut"),
      h("select", { id: statusId, name: "status" }, h("option", { value: "" }, "Tous"),
        catalog.statuses.map((s) => h("option", { value: s.code }, s.label)))),
    h("div", { class: "champ" }, h("label", { for: typeId }, "Type de demande"),
      h("select", { id: typeId, name: "type" }, h("option", { value: "" }, "Tous"),
        types.map((t) => h("option", { value: t.type }, t.label)))),
    h("button", { type: "submit" }, "Filtrer"));
  // Not a live region: a whole list read out on each filter, and « Voir plus »'s first new
  // entry twice (it takes the focus); `announce` says how many are shown.
  const timeline = h("div", { class: "frise", "aria-busy": "true" });
  const more = h("button", { type: "button", class: "secondaire", hidden: true }, "Voir plus");
  const layout = h("div", { class: "suivi" },
    h("section", { class: "historique", "aria-labelledby": "historique-titre" },
      h("h2", { id: "historique-titre" }, "Historique de mes demandes"), filters, timeline, more),
    h("section", { class: "detail", "aria-label": "Détail de ma démarche", tabindex: "-1" }));
  replace(main, h("div", { class: "page large" }, heading("Le suivi des demandes"), layout));

  let cursor = null;
  let query = {};
  let listed = {}; // the filters of the list shown, which its cursor continues
  // Which search the timeline shows: a « Voir plus » page of an earlier one is dropped.
  let searches = 0;
  async function load(reset) {
    if (reset) searches += 1;
    const asked = searches;
    timeline.setAttribute("aria-busy", "true");
    // The filters go with the cursor too: the page continues the list shown, whatever the
    // form says meanwhile.
    const filters = reset ? query : listed;
    const page = await get("/requests", reset ? { ...filters, limit: 6 } : { ...filters, limit: 6, cursor });
    if (asked !== searches) return null;
    listed = filters;
    if (reset) timeline.replaceChildren();
    for (const month of page.months) timeline.append(monthBlock(month, catalog));
    if (page.months.length === 0) {
      timeline.append(h("p", {}, reset ? "Aucune demande pour ces critères." : "Aucune autre demande pour ces critères."));
    }
    cursor = page.next_cursor;
    more.hidden = !cursor;
    timeline.setAttribute("aria-busy", "false");
    return page;
  }
  filters.addEventListener("submit", async (event) => {
    event.preventDefault();
    query = { status: filters.elements.status.value, type: filters.elements.type.value };
    const page = await load(true);
    if (!page) return;
    const count = page.months.reduce((n, m) => n + m.requests.length, 0);
    announce(`${count} demande${count > 1 ? "s" : ""} affichée${count > 1 ? "s" : ""}.`);
  });
  onePageAtATime(more, async () => {
    if (!cursor) return;
    const before = timeline.querySelectorAll("a").length;
    if (!(await load(false))) return;
    const first = timeline.querySelectorAll("a")[before];
    if (first) first.focus();
  });
  await load(true);
  return layout;
}

function statusBadge(catalog, code) {
  const status = statusOf(catalog, code);
  return h("span", { class: `statut statut-${status.color || "grey"}`, dataset: { status: code } },
    h("img", { src: `img/${status.icon}.svg`, alt: "", width: "20", height: "20", dataset: { icon: status.icon } }),
    ` ${status.label}`);
}

function monthBlock(month, catalog) {
  const id = uid("mois");
  return h("section", { class: "mois", "aria-labelledby": id },
    h("h3", { id }, formatMonth(month.month)),
    h("ol", {}, month.requests.map((r) => h("li", {},
      h("a", { href: `#/suivi/${r.request_id}`, class: "demande", dataset: { request: r.request_id, type: r.type } },
        h("span", { class: "type" }, r.label),
        h("span", { class: "date" }, formatDate(r.created_at)),
        h("span", { class: "benef" }, beneficiaryNames(r.beneficiaries)),
        statusBadge(catalog, r.status))))));
}

function renderDetail(detail, request, catalog) {
  // The history says what the detail says (after a withdrawal or a reply, its state changed).
  const entry = document.querySelector(`.frise a[data-request="${request.request_id}"] .statut`);
  if (entry) entry.replaceWith(statusBadge(catalog, request.status));
  const schema = recallSchema(catalog, request.type, request.recall.data);
  const rows = [
    // A complaint's label is « Réclamation », filed as one or reclassified.
    ["Type de demande", request.label],
    ["Date", formatDate(request.created_at)],
    ["Bénéficiaire(s)", beneficiaryNames(request.beneficiaries)],
    ["Statut", statusBadge(catalog, request.status)],
    request.outcome ? ["Décision", { accepted: "Acceptée", refused: "Refusée", partially_accepted: "Acceptée en partie" }[request.outcome]] : null,
    // `due_at` is the last second of the day owed: « au plus tard le », as the acknowledgement letter says.
    request.due_at ? ["Réponse attendue au plus tard le", formatDate(request.due_at)] : null,
    ["Référence", request.request_id],
  ].filter(Boolean);
  const recall = h("details", { class: "rappel-demande" },
    h("summary", {}, "Voir le rappel de ma demande"),
    recallList(request.recall.data, schema),
    request.recall.description ? h("p", { class: "description" }, request.recall.description) : null,
    attachmentsBlock(request));
  replace(detail,
    h("h2", { tabindex: "-1" }, request.label),
    h("dl", { class: "resume" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    request.information_request && request.status === "waiting_for_member"
      ? h("div", { class: "encadre attention", role: "note" },
        h("h3", {}, "Génération attend votre réponse"),
        h("p", {}, request.information_request.message),
        h("p", {}, `À fournir au plus tard le ${formatDate(request.information_request.respond_before)}.`))
      : null,
    recall,
    request.documents.length
      ? h("section", {}, h("h3", {}, "Courriers"), h("ul", {}, request.documents.map((d) => h("li", {},
        h("button", { type: "button", class: "lien", onclick: () => openDownload(d.document_id) }, `${d.title} (PDF)`)))))
      : null,
    request.messages.length
      ? h("section", {}, h("h3", {}, "Échanges"), h("ol", { class: "messages" }, request.messages.map((m) => h("li", { class: `message ${m.author}` },
        h("p", { class: "auteur" }, m.author === "member" ? "Vous" : "Génération", ` — ${formatDateTime(m.at)}`),
        h("p", {}, m.text),
        m.attachment_ids.length ? h("p", { class: "discret" }, m.attachment_ids.length > 1 ? `${m.attachment_ids.length} pièces jointes` : "1 pièce jointe") : null))))
      : null,
    h("section", {}, h("h3", {}, "Historique"), h("ol", { class: "historique-etapes" }, request.history.map((e) => h("li", {}, `${formatDateTime(e.at)} — ${e.label}`)))),
    OPEN.has(request.status) ? replyForm(detail, request, catalog) : null,
    actions(detail, request, catalog));
}

function attachmentsBlock(request) {
  if (!request.attachments.length) return null;
  const open = OPEN.has(request.status);
  return h("section", {}, h("h3", {}, "Pièces jointes"),
    h("ul", {}, request.attachments.map((a) => h("li", {},
      open
        ? h("button", { type: "button", class: "lien", onclick: () => openAttachment(request.request_id, a.attachment_id) }, `${a.filename} (${formatSize(a.size)})`)
        : `${a.filename} (${formatSize(a.size)})`))));
}

async function openAttachment(requestId, attachmentId) {
  const link = await get(`/requests/${requestId}/attachments/${attachmentId}`);
  followLink(link.url);
}

export function followLink(url) {
  const a = h("a", { href: url, rel: "noopener" });
  document.body.append(a);
  a.click();
  a.remove();
}

function replyForm(detail, request, catalog) {
  const id = uid("champ");
  const message = h("textarea", { id, name: "message", rows: "4", maxlength: "4000", "aria-required": "true" });
  const files = fileField({ name: "upload_ids", label: "Documents à joindre" });
  const uploads = cachedUploads(files);
  const form = h("form", { class: "formulaire", novalidate: true, "aria-labelledby": `${id}-titre`, dataset: { failure: "Votre réponse n'a pas pu être envoyée :" } },
    h("h3", { id: `${id}-titre` }, request.status === "waiting_for_member" ? "Répondre à Génération" : "Compléter ma demande"),
    h("div", { class: "champ", dataset: { field: "message" } }, h("label", { for: id }, "Votre message", h("span", { class: "obligatoire" }, " (obligatoire)")), message),
    files.element,
    h("button", { type: "submit", class: "principal" }, "Envoyer ma réponse"));
  guard(form, async (key) => {
    const body = { message: message.value.trim(), upload_ids: await uploads() };
    const updated = await post(`/requests/${request.request_id}/replies`, body, { "Idempotency-Key": key });
    renderDetail(detail, updated, catalog);
    announce("Votre réponse a bien été envoyée.");
    detail.querySelector("h2").focus();
  });
  return form;
}

// A refused action said beside the actions (not in the page's banner, out of sight above):
// one at a time, gone at the next attempt. The focus stays on the button if it is still there
// (the member may try again at once), else it goes to what was said.
function sayWhy(detail, message) {
  forgetWhy(detail);
  const said = h("p", { class: "alerte refus-action", role: "alert", tabindex: "-1" }, message);
  const place = detail.querySelector(".actions");
  if (place) place.before(said);
  else detail.append(said);
  const lost = !document.activeElement || document.activeElement === document.body;
  if (lost) said.focus();
}

function forgetWhy(detail) {
  for (const said of detail.querySelectorAll(".refus-action")) said.remove();
}

function actions(detail, request, catalog) {
  const buttons = [];
  if (OPEN.has(request.status)) {
    const confirm = h("button", { type: "button", class: "danger", hidden: true }, "Confirmer le retrait");
    const ask = h("button", { type: "button", class: "secondaire" }, "Retirer ma demande");
    ask.addEventListener("click", () => {
      confirm.hidden = false;
      confirm.focus();
      announce("Confirmez le retrait de votre demande : elle ne sera pas traitée.");
    });
    confirm.addEventListener("click", async () => {
      forgetWhy(detail);
      const enable = disableWhileBusy(confirm);
      let updated;
      try {
        updated = await post(`/requests/${request.request_id}/withdrawal`, {});
      } catch (error) {
        enable(); // the member may try again
        // Refused because the request changed meanwhile (decided, or a decision under way):
        // the detail as it now is, and why, where the button was.
        if (error.status === 409) renderDetail(detail, await get(`/requests/${request.request_id}`), catalog);
        sayWhy(detail, error.message);
        return;
      }
      enable();
      renderDetail(detail, updated, catalog);
      announce("Votre demande est retirée.");
      detail.querySelector("h2").focus();
    });
    buttons.push(ask, confirm);
  }
  if (!request.complaint) {
    buttons.push(h("a", { href: `#/echanger?conteste=${request.request_id}`, class: "bouton secondaire" }, "Contester cette demande"));
  }
  return h("div", { class: "actions" }, buttons);
}
