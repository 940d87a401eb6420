// « Échanger avec Génération »: the contact form (subject and detail from the catalogue's two
// drop-downs, beneficiaries, description, files, the complaint box; « contester » arrives here
// with the request it contests), then Génération's phones and postal addresses.
import { h, heading, replace, uid, formatDate } from "../dom.js";
import { get, post, getCatalog } from "../api.js";
import { beneficiaryField, myBeneficiaries } from "../beneficiaries.js";
import { fileField } from "../uploads.js";
import { guard, cachedUploads } from "../submit.js";
import { findType, showFiled } from "./demarches.js";

export async function renderEchanger(main, params) {
  const catalog = await getCatalog();
  const contact = findType(catalog, "contact.demande").type;
  const contested = params.get("conteste");
  const related = contested ? await get(`/requests/${contested}`).catch(() => null) : null;
  const [beneficiaryList, coordinates] = await Promise.all([myBeneficiaries(), get("/contact")]);

  const subjectId = uid("champ");
  const detailId = uid("champ");
  const subject = h("select", { id: subjectId, name: "data.subject", "aria-required": "true" },
    h("option", { value: "" }, "Choisissez un sujet…"),
    catalog.subjects.map((s) => h("option", { value: s.code }, s.label)));
  const detail = h("select", { id: detailId, name: "data.detail", "aria-required": "true", disabled: true },
    h("option", { value: "" }, "Choisissez d'abord un sujet"));
  subject.addEventListener("change", () => {
    const chosen = catalog.subjects.find((s) => s.code === subject.value);
    detail.replaceChildren(h("option", { value: "" }, chosen ? "Choisissez un détail…" : "Choisissez d'abord un sujet"),
      ...(chosen ? chosen.details : []).map((d) => h("option", { value: d.code }, d.label)));
    detail.disabled = !chosen;
  });
  const complaintId = uid("champ");
  const complaint = h("input", { type: "checkbox", id: complaintId, name: "complaint" });
  if (related) complaint.checked = true;
  const beneficiaries = beneficiaryField(beneficiaryList, contact);
  if (related) {
    for (const box of beneficiaries.element.querySelectorAll("input")) {
      box.checked = related.beneficiaries.some((b) => b.beneficiary_id === box.value);
    }
  }
  const descriptionId = uid("champ");
  const description = h("textarea", { id: descriptionId, name: "description", rows: "6", maxlength: "4000", "aria-required": "true" });
  const files = fileField({ name: "upload_ids", label: "Pièces jointes (facultatif)" });
  const uploads = cachedUploads(files);
  const form = h("form", { class: "formulaire", novalidate: true, dataset: { type: "contact.demande" } },
    related ? h("p", { class: "encadre", dataset: { field: "related_request_id" } },
      `Vous contestez votre demande « ${related.label} » du ${formatDate(related.created_at)}.`) : null,
    h("div", { class: "champ", dataset: { field: "data.subject" } },
      h("label", { for: subjectId }, "Sujet de la demande", h("span", { class: "obligatoire" }, " (obligatoire)")), subject),
    h("div", { class: "champ", dataset: { field: "data.detail" } },
      h("label", { for: detailId }, "Détail", h("span", { class: "obligatoire" }, " (obligatoire)")), detail),
    h("div", { class: "champ case", dataset: { field: "complaint" } }, complaint,
      h("label", { for: complaintId }, "Je souhaite formuler une réclamation")),
    beneficiaries.element,
    h("div", { class: "champ", dataset: { field: "description" } },
      h("label", { for: descriptionId }, "Décrivez votre demande", h("span", { class: "obligatoire" }, " (obligatoire)")), description),
    files.element,
    h("button", { type: "submit", class: "principal" }, "Envoyer"));
  guard(form, async (key) => {
    const body = {
      type: "contact.demande",
      beneficiary_ids: beneficiaries.collect(),
      data: { subject: subject.value, detail: detail.value },
      description: description.value.trim(),
      upload_ids: await uploads(),
      complaint: complaint.checked,
    };
    if (related && complaint.checked) body.related_request_id = related.request_id;
    showFiled(main, await post("/requests", body, { "Idempotency-Key": key }));
  });

  replace(main, h("div", { class: "page" },
    heading("Échanger avec Génération"),
    h("section", { "aria-labelledby": "envoyer-titre" },
      h("h2", { id: "envoyer-titre" }, related ? "Formuler une réclamation" : "Nous envoyer une demande, un document"),
      h("p", {}, "Renseignez le sujet de la demande et son détail, cochez la case si vous souhaitez formuler une réclamation, sélectionnez le ou les bénéficiaire(s) concerné(s), décrivez votre demande et ajoutez des pièces jointes si vous le souhaitez."),
      form),
    h("div", { class: "cartes" },
      h("section", { class: "carte", "aria-labelledby": "appeler-titre" },
        h("h2", { id: "appeler-titre" }, "Nous appeler"),
        h("ul", { class: "coordonnees" }, coordinates.phones.map((p) => h("li", {},
          h("strong", {}, p.label), h("br"), h("a", { href: `tel:${p.number.replace(/\s/g, "")}` }, p.number),
          ` (${p.note})`, h("br"), p.hours)))),
      h("section", { class: "carte", "aria-labelledby": "ecrire-titre" },
        h("h2", { id: "ecrire-titre" }, "Nous écrire"),
        h("ul", { class: "coordonnees" }, coordinates.addresses.map((a) => h("li", {},
          h("strong", {}, a.label), h("address", {}, a.lines.map((l) => [l, h("br")]), `${a.postal_code} ${a.city}`)))),
        coordinates.mediator ? h("p", {}, h("strong", {}, coordinates.mediator.label), h("br"), coordinates.mediator.name, h("br"),
          coordinates.mediator.address, h("br"), h("a", { href: coordinates.mediator.website, rel: "noopener" }, coordinates.mediator.website)) : null))));
}
