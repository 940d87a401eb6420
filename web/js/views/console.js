// The agents' console: a service's work lists (open, waiting, processed, withdrawn), a
// request's detail with its attachments to download, and the three acts: ask the member for
// information, decide, reclassify.
import { h, heading, replace, uid, announce, focusHeading, onePageAtATime, formatDate, formatDateTime, formatSize, beneficiaryNames } from "../dom.js";
import { get, post, getCatalog, statusOf } from "../api.js";
import { agentServices, memberId as ownMemberId } from "../auth.js";
import { recallList } from "../schemaform.js";
import { guard } from "../submit.js";
import { recallSchema } from "./demarches.js";
import { openDownload } from "./courriers.js";

export const SERVICES = {
  remboursements: "Remboursements", devis: "Devis", hospitalisation: "Hospitalisation",
  tiers_payant: "Tiers-payant", adhesion: "Adhésion", cotisations: "Cotisations",
  reclamations: "Réclamations", relation_adherent: "Relation adhérent",
};
const STATES = [["open", "À traiter"], ["waiting", "En attente de l'adhérent"], ["processed", "Traitées"], ["withdrawn", "Retirées"]];
const OUTCOMES = [["accepted", "Acceptée"], ["partially_accepted", "Acceptée en partie"], ["refused", "Refusée"]];

// A state in the agent's words: the catalogue's labels are the member's (« En attente de votre
// réponse » read, in the console, as if the agent owed the answer), and a processed request
// says how it was decided.
function agentStatus(catalog, request) {
  if (request.status === "waiting_for_member") return "En attente de l'adhérent";
  const label = statusOf(catalog, request.status).label;
  const outcome = OUTCOMES.find(([code]) => code === request.outcome);
  return request.status === "processed" && outcome ? `${label} — ${outcome[1].toLowerCase()}` : label;
}

// Why a request heads its list, in words (the list's order alone did not say it): its
// handler gave up, its question went unanswered, or a complaint's deadline is near or past.
function reasons(request) {
  const tags = [];
  if (request.needs_attention) tags.push(["urgent", "Urgent"]);
  if (request.unanswered) tags.push(["urgent", "Sans réponse de l'adhérent"]);
  if (request.deadline_at_risk) {
    const past = new Date(request.deadline_at_risk) < new Date();
    tags.push(["urgent", past ? "Échéance dépassée" : "Échéance proche"]);
  }
  return tags.map(([kind, text]) => h("span", { class: `etiquette ${kind}` }, text));
}

// The deadline the service works to: the answer's, or while a complaint is not acknowledged
// yet, its acknowledgement's (it showed « — » until then).
function deadline(request) {
  if (request.due_at) return formatDate(request.due_at);
  if (request.acknowledgement_due_at) return `${formatDate(request.acknowledgement_due_at)} (accusé de réception)`;
  return "—";
}

function nav(current, state) {
  const services = agentServices();
  return h("nav", { class: "onglets", "aria-label": "Services et listes" },
    h("ul", { class: "services" }, services.map((s) => h("li", {},
      h("a", { href: `#/console/${s}/${state || "open"}`, "aria-current": s === current ? "page" : null }, SERVICES[s] || s)))),
    current ? h("ul", { class: "etats" }, STATES.map(([code, label]) => h("li", {},
      h("a", { href: `#/console/${current}/${code}`, "aria-current": code === state ? "page" : null }, label)))) : null);
}

export async function renderConsole(main, service, state = "open") {
  const services = agentServices();
  if (!services.length) {
    replace(main, h("div", { class: "page" }, heading("Console des services"), h("p", {}, "Votre compte n'est rattaché à aucun service.")));
    return;
  }
  if (!service) service = services[0];
  const catalog = await getCatalog();
  // The agent's own member file is a colleague's to work (the API answers 403): listed, not
  // linked.
  const own = ownMemberId();
  const row = (r) => h("tr", {},
    h("td", {}, formatDate(r.created_at)),
    h("td", {}, r.member_id === own
      ? [h("span", { dataset: { request: r.request_id } }, r.label), h("span", { class: "etiquette" }, "Votre dossier : traité par un collègue")]
      : h("a", { href: `#/console/dossier/${r.member_id}/${r.request_id}`, dataset: { request: r.request_id } }, r.label),
    // A complaint's label is already « Réclamation », unless reclassified into one.
    r.complaint && r.label !== "Réclamation" ? h("span", { class: "etiquette" }, "Réclamation") : null, ...reasons(r)),
    h("td", {}, r.member_id),
    h("td", {}, beneficiaryNames(r.beneficiaries)),
    h("td", {}, agentStatus(catalog, r)),
    h("td", {}, deadline(r)));
  const answer = await get(`/backoffice/services/${service}/requests`, { state });
  const body = h("tbody", {}, answer.requests.map(row));
  // A list longer than a page goes on with its cursor: without it, the requests past the
  // first page (the newest of a list that only grows: processed, withdrawn) were out of reach.
  let cursor = answer.next_cursor;
  const more = h("button", { type: "button", class: "secondaire", hidden: !cursor }, "Voir plus");
  onePageAtATime(more, async () => {
    if (!cursor) return;
    const page = await get(`/backoffice/services/${service}/requests`, { state, cursor });
    const before = body.children.length;
    body.append(...page.requests.map(row));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    announce(`${page.requests.length} demande${page.requests.length > 1 ? "s" : ""} de plus.`);
    const first = body.children[before];
    if (first) first.querySelector("a").focus();
  });
  const stateLabel = STATES.find(([c]) => c === state)[1];
  replace(main, h("div", { class: "page large" },
    heading(`Console des services — ${SERVICES[service] || service}`),
    nav(service, state),
    h("h2", {}, stateLabel),
    answer.requests.length || cursor
      // Scrolled sideways within its own box on a narrow screen (not the whole page), which
      // the keyboard reaches (axe's scrollable-region-focusable).
      ? h("div", { class: "defilement", tabindex: "0", role: "region", "aria-label": `${SERVICES[service] || service} : ${stateLabel}` },
        h("table", { class: "liste" },
          h("caption", { class: "sr-only" }, `${SERVICES[service]} : ${stateLabel}, les plus urgentes puis les plus anciennes`),
          h("thead", {}, h("tr", {}, ["Déposée le", "Demande", "Adhérent", "Bénéficiaires", "Statut", "Échéance"].map((t) => h("th", { scope: "col" }, t)))),
          body))
      : h("p", {}, "Aucune demande dans cette liste."),
    more));
}

// `complaintId`: the request is read through a complaint that contests it (the complaints
// service reads the decision contested, whatever service holds it): read only.
export async function renderDossier(main, memberId, requestId, complaintId = null) {
  const catalog = await getCatalog();
  const through = complaintId ? { complaint: complaintId } : {};
  const request = await get(`/backoffice/members/${memberId}/requests/${requestId}`, through);
  const open = !complaintId && (request.status === "in_progress" || request.status === "waiting_for_member");
  const base = `/backoffice/members/${memberId}/requests/${requestId}`;
  const suffix = complaintId ? `?complaint=${encodeURIComponent(complaintId)}` : "";
  const contested = request.related_request_id
    ? `#/console/dossier/${encodeURIComponent(memberId)}/${encodeURIComponent(request.related_request_id)}?reclamation=${encodeURIComponent(requestId)}`
    : null;
  // The dossier drawn again after an act: the button the focus was on is gone with it, so the
  // focus goes to the dossier's title (it fell to the page, the next Tab on the breadcrumb).
  const reload = async (message) => {
    await renderDossier(main, memberId, requestId);
    focusHeading(main);
    announce(message);
  };
  replace(main, h("div", { class: "page large" },
    h("p", { class: "fil" }, complaintId
      ? h("a", { href: `#/console/dossier/${encodeURIComponent(memberId)}/${encodeURIComponent(complaintId)}` }, "Retour à la réclamation")
      : h("a", { href: `#/console/${request.service}/open` }, `Console — ${SERVICES[request.service] || request.service}`)),
    heading(`${request.label}${request.complaint && request.label !== "Réclamation" ? " (réclamation)" : ""}`),
    open && reasons(request).length ? h("p", { class: "etiquettes" }, ...reasons(request)) : null,
    h("dl", { class: "resume" },
      [["Adhérent", request.member_id], ["Déposée le", formatDateTime(request.created_at)], ["Bénéficiaire(s)", beneficiaryNames(request.beneficiaries)],
        ["Statut", agentStatus(catalog, request)], ["Service", SERVICES[request.service] || request.service],
        ["Échéance", deadline(request)], ["Référence", request.request_id],
        contested ? ["Demande contestée", h("a", { href: contested }, "Voir la demande contestée")] : null]
        .filter(Boolean)
        .map(([k, v]) => [h("dt", {}, k), h("dd", { dataset: { info: k } }, v)])),
    complaintId ? h("p", { class: "encadre", role: "note" }, "Demande contestée par une réclamation : consultation seule.") : null,
    h("section", {}, h("h2", {}, "Ce que l'adhérent a déposé"),
      recallList(request.recall.data, recallSchema(catalog, request.type, request.recall.data)),
      request.recall.description ? h("p", { class: "description" }, request.recall.description) : null),
    h("section", {}, h("h2", {}, "Pièces jointes"), request.attachments.length
      ? h("ul", {}, request.attachments.map((a) => h("li", {},
        h("a", { href: a.download.url, rel: "noopener", dataset: { attachment: a.attachment_id }, onclick: (event) => followFresh(event, base, a, through) },
          `Télécharger ${a.filename}`), ` (${formatSize(a.size)})`)))
      : h("p", {}, "Aucune.")),
    request.documents.length ? h("section", {}, h("h2", {}, "Courriers envoyés"), h("ul", {}, request.documents.map((d) => h("li", {},
      h("button", { type: "button", class: "lien", dataset: { document: d.document_id }, onclick: () => openDownload(d.document_id, `${base}/documents/${d.document_id}/download${suffix}`) }, `${d.title} (PDF)`))))) : null,
    request.messages.length ? h("section", {}, h("h2", {}, "Échanges"), h("ol", { class: "messages" }, request.messages.map((m) => h("li", { class: `message ${m.author}` },
      h("p", { class: "auteur" }, m.author === "member" ? "Adhérent" : "Service", ` — ${formatDateTime(m.at)}`), h("p", {}, m.text),
      m.attachment_ids.length ? h("p", { class: "discret" }, `${m.attachment_ids.length} pièce(s) jointe(s)`) : null)))) : null,
    h("section", {}, h("h2", {}, "Historique"), h("ol", {}, request.history.map((e) => h("li", {}, `${formatDateTime(e.at)} — ${e.label}`)))),
    open ? h("div", { class: "cartes actes" },
      askForm(base, reload), decisionForm(base, reload),
      // A complaint stays a complaint, with the complaints service: nothing to reclassify.
      request.complaint ? null : reclassifyForm(base, request, reload)) : null));
}

// An attachment's link is presigned for a few minutes (its `expires_at`): clicked later (the
// agent read the request for a while), it is signed again from the detail read anew, rather
// than followed to S3's « Request has expired ».
const MARGIN_MS = 15_000;
async function followFresh(event, base, attachment, through) {
  if (Date.parse(attachment.download.expires_at) - Date.now() > MARGIN_MS) return;
  event.preventDefault();
  const link = event.currentTarget;
  const again = await get(base, through);
  const fresh = again.attachments.find((x) => x.attachment_id === attachment.attachment_id);
  if (!fresh) throw new Error("Cette pièce jointe n'est plus conservée.");
  attachment.download = fresh.download;
  link.setAttribute("href", fresh.download.url);
  const a = h("a", { href: fresh.download.url, rel: "noopener" });
  document.body.append(a);
  a.click();
  a.remove();
}

function textarea(label, name, required = true) {
  const id = uid("champ");
  return h("div", { class: "champ", dataset: { field: name } },
    h("label", { for: id }, label, required ? h("span", { class: "obligatoire" }, " (obligatoire)") : null),
    h("textarea", { id, name, rows: "4", maxlength: "4000" }));
}

function askForm(base, reload) {
  const days = uid("champ");
  const form = h("form", { class: "formulaire carte", novalidate: true, "aria-labelledby": `${days}-t`, dataset: { failure: "La demande d'informations n'a pas pu être envoyée :" } },
    h("h2", { id: `${days}-t` }, "Demander des informations"),
    textarea("Message à l'adhérent", "message"),
    h("div", { class: "champ", dataset: { field: "respond_within_days" } }, h("label", { for: days }, "Délai de réponse (jours)"),
      h("input", { id: days, name: "respond_within_days", type: "number", min: "1", max: "60", value: "30" })),
    h("button", { type: "submit", class: "principal" }, "Envoyer la demande d'informations"));
  guard(form, async () => {
    await post(`${base}/information-request`, {
      message: form.elements.message.value.trim(), respond_within_days: Number(form.elements.respond_within_days.value),
    });
    await reload("La demande d'informations est envoyée à l'adhérent.");
  });
  return form;
}

function decisionForm(base, reload) {
  const outcome = uid("champ");
  const amount = uid("champ");
  const form = h("form", { class: "formulaire carte", novalidate: true, "aria-labelledby": `${outcome}-t`, dataset: { failure: "La décision n'a pas pu être enregistrée :" } },
    h("h2", { id: `${outcome}-t` }, "Décider"),
    h("div", { class: "champ", dataset: { field: "outcome" } }, h("label", { for: outcome }, "Décision"),
      h("select", { id: outcome, name: "outcome" }, OUTCOMES.map(([c, l]) => h("option", { value: c }, l)))),
    h("div", { class: "champ", dataset: { field: "amount" } }, h("label", { for: amount }, "Montant accordé (€)"),
      h("p", { class: "aide", id: `${amount}-aide` }, "Requis pour accepter un remboursement, un devis ou une prise en charge, par ex. 42.50 ; vide pour un refus"),
      h("input", { id: amount, name: "amount", type: "text", inputmode: "decimal", "aria-describedby": `${amount}-aide` })),
    textarea("Message du courrier", "message", false),
    h("button", { type: "submit", class: "principal" }, "Enregistrer la décision"));
  guard(form, async () => {
    const body = { outcome: form.elements.outcome.value };
    const message = form.elements.message.value.trim();
    const value = form.elements.amount.value.trim().replace(",", ".");
    if (message) body.message = message;
    if (value) body.amount = value;
    await post(`${base}/decision`, body);
    await reload("La décision est enregistrée ; le courrier rejoint les documents de l'adhérent.");
  });
  return form;
}

function reclassifyForm(base, request, reload) {
  const complaintId = uid("champ");
  const serviceId = uid("champ");
  const form = h("form", { class: "formulaire carte", novalidate: true, "aria-labelledby": `${serviceId}-t`, dataset: { failure: "La demande n'a pas pu être reclassée :" } },
    h("h2", { id: `${serviceId}-t` }, "Reclasser"),
    h("div", { class: "champ case", dataset: { field: "complaint" } },
      h("input", { type: "checkbox", id: complaintId, name: "complaint" }), h("label", { for: complaintId }, "C'est une réclamation")),
    h("div", { class: "champ", dataset: { field: "service" } }, h("label", { for: serviceId }, "Ou l'envoyer au service"),
      h("select", { id: serviceId, name: "service" }, h("option", { value: "" }, "Choisissez…"),
        Object.entries(SERVICES).filter(([code]) => code !== request.service).map(([code, label]) => h("option", { value: code }, label)))),
    h("button", { type: "submit", class: "secondaire" }, "Reclasser"));
  guard(form, async () => {
    const complaint = form.elements.complaint && form.elements.complaint.checked;
    const body = complaint ? { complaint: true } : { service: form.elements.service.value || null };
    const moved = await post(`${base}/reclassification`, body);
    if (agentServices().includes(moved.service)) {
      await reload("La demande est reclassée.");
      return;
    }
    // Now another service's, which this agent does not work: its detail is no longer theirs
    // to read (403), so back to the list it left, saying where it went.
    window.location.hash = `#/console/${request.service}/open`;
    announce(`La demande est reclassée : elle est désormais au service ${SERVICES[moved.service] || moved.service}.`);
  });
  return form;
}
