// « Mes démarches »: the Santé and Vie personnelle cards, and each démarche's form, generated
// from its catalogue entry (data_schema, attachments, description, beneficiary ages).
import { h, heading, replace, uid, announce, focusHeading, titleFrom } from "../dom.js";
import { getCatalog, post } from "../api.js";
import { objectFields } from "../schemaform.js";
import { beneficiaryField, myBeneficiaries } from "../beneficiaries.js";
import { fileField } from "../uploads.js";
import { guard, cachedUploads } from "../submit.js";

const EXTRA_LINKS = {
  sante: [{ href: "#/professionnels", label: "Rechercher un professionnel de santé partenaire" }],
  vie_personnelle: [{ href: "#/informations", label: "Consulter vos informations et celles de vos bénéficiaires" }],
};

export async function renderCatalog(main) {
  const catalog = await getCatalog();
  const cards = catalog.categories
    .filter((c) => c.code !== "contact")
    .map((category) => h("section", { class: "carte", "aria-labelledby": `cat-${category.code}` },
      h("h2", { id: `cat-${category.code}` }, category.label),
      h("ul", { class: "liens" },
        category.types.map((t) => h("li", {}, h("a", { href: `#/demarches/${t.type}` }, t.label))),
        (EXTRA_LINKS[category.code] || []).map((l) => h("li", {}, h("a", { href: l.href }, l.label))))));
  replace(main, h("div", { class: "page" },
    heading("Mes démarches"),
    h("p", { class: "chapo" }, "Effectuez vos démarches, et suivez leur avancement d'un coup d'oeil !"),
    h("div", { class: "cartes" }, cards),
    h("p", {}, "Une fois votre demande envoyée, retrouvez-la et suivez son évolution dans l'onglet ",
      h("a", { href: "#/suivi" }, "Le suivi des demandes"), ".")));
}

export function findType(catalog, code) {
  for (const category of catalog.categories) {
    const found = category.types.find((t) => t.type === code);
    if (found) return { type: found, category };
  }
  return null;
}

// The schema a request's recall is read with: its type's `data_schema`, and for the contact
// form the labels of the two drop-downs (a detail's label depends on its subject: « autre » is
// « Autre difficulté » or « Autre demande »), which the catalogue gives in `subjects`.
export function recallSchema(catalog, code, data) {
  const found = findType(catalog, code);
  const schema = found ? found.type.data_schema : {};
  const properties = schema.properties || {};
  const subject = (catalog.subjects || []).find((s) => s.code === (data || {}).subject);
  if (!subject || !properties.subject || !properties.detail) return schema;
  return {
    ...schema,
    properties: {
      ...properties,
      subject: { ...properties.subject, "x-enum-labels": { [subject.code]: subject.label } },
      detail: { ...properties.detail, "x-enum-labels": Object.fromEntries(subject.details.map((d) => [d.code, d.label])) },
    },
  };
}

export async function renderDemarche(main, code) {
  const catalog = await getCatalog();
  const found = findType(catalog, code);
  if (!found) {
    replace(main, h("div", { class: "page" }, heading("Démarche introuvable"), h("p", {}, h("a", { href: "#/demarches" }, "Revenir à Mes démarches"))));
    return;
  }
  const { type, category } = found;
  const beneficiaries = beneficiaryField(await myBeneficiaries(), type);
  const data = objectFields(type.data_schema, "data");
  const descriptionId = uid("champ");
  const description = h("textarea", { id: descriptionId, name: "description", rows: "5", maxlength: "4000",
    "aria-required": type.description_required ? "true" : null });
  const files = type.attachments_allowed
    ? fileField({ name: "upload_ids", label: "Pièces jointes", required: type.attachments_required })
    : null;
  const uploads = files ? cachedUploads(files) : async () => [];
  const form = h("form", { class: "formulaire", novalidate: true, dataset: { type: type.type } },
    beneficiaries.element,
    data.element,
    h("div", { class: "champ", dataset: { field: "description" } },
      h("label", { for: descriptionId }, type.description_required ? "Décrivez votre demande" : "Commentaire",
        h("span", { class: "obligatoire" }, type.description_required ? " (obligatoire)" : " (facultatif)")),
      description),
    files ? files.element : null,
    h("button", { type: "submit", class: "principal" }, "Envoyer ma demande"));
  guard(form, async (key) => {
    const body = { type: type.type, beneficiary_ids: beneficiaries.collect(), data: data.collect() };
    const text = description.value.trim();
    if (text) body.description = text;
    if (files) body.upload_ids = await uploads();
    const created = await post("/requests", body, { "Idempotency-Key": key });
    showFiled(main, created);
  });
  replace(main, h("div", { class: "page" },
    h("p", { class: "fil" }, h("a", { href: "#/demarches" }, "Mes démarches"), ` › ${category.label}`),
    heading(type.label),
    h("p", { class: "aide" }, "Les champs marqués « obligatoire » doivent être renseignés."),
    form));
}

export function showFiled(main, created) {
  replace(main, h("div", { class: "page etroite" },
    heading("Votre demande a bien été envoyée"),
    h("p", { class: "succes", role: "status" }, `« ${created.label} » est transmise au service concerné pour être traitée dans les meilleurs délais.`),
    h("p", {}, h("a", { href: `#/suivi/${created.request_id}`, class: "bouton" }, "Suivre cette demande")),
    h("p", {}, h("a", { href: "#/demarches" }, "Effectuer une autre démarche"))));
  announce("Votre demande a bien été envoyée.");
  titleFrom("Votre demande a bien été envoyée", "Mes démarches");
  focusHeading(main);
}
