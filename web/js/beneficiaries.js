// The beneficiaries a démarche concerns: one checkbox each, from `GET /me/beneficiaries`,
// restricted to the ages the catalogue's type allows (`beneficiary_ages`: whole years, `min` and
// `max` both included, so an adult child's extension offers the 25-year-olds).
import { h, uid, formatDate } from "./dom.js";
import { get } from "./api.js";

let cached = null;
export async function myBeneficiaries() {
  if (!cached) cached = (await get("/me/beneficiaries")).beneficiaries;
  return cached;
}

export function forgetBeneficiaries() {
  cached = null;
}

const RELATIONSHIPS = { member: "Adhérent(e)", spouse: "Conjoint(e)", child: "Enfant" };

function age(birthDate) {
  const today = new Date();
  const born = new Date(`${birthDate}T12:00:00Z`);
  let years = today.getUTCFullYear() - born.getUTCFullYear();
  const before = today.getUTCMonth() < born.getUTCMonth()
    || (today.getUTCMonth() === born.getUTCMonth() && today.getUTCDate() < born.getUTCDate());
  if (before) years -= 1;
  return years;
}

export function beneficiaryField(beneficiaries, ages) {
  const eligible = beneficiaries.filter((b) => !ages || (age(b.birth_date) >= ages.min && age(b.birth_date) <= ages.max));
  const boxes = eligible.map((b) => {
    const id = uid("benef");
    const box = h("input", { type: "checkbox", id, name: "beneficiary_ids", value: b.beneficiary_id });
    if (eligible.length === 1) box.checked = true;
    return h("div", { class: "case" }, box,
      h("label", { for: id }, `${b.first_name} ${b.last_name}`, h("span", { class: "discret" }, ` — ${RELATIONSHIPS[b.relationship] || ""}, né(e) le ${formatDate(b.birth_date)}`)));
  });
  const element = h("fieldset", { class: "groupe", dataset: { field: "beneficiary_ids" } },
    h("legend", {}, "Bénéficiaire(s) concerné(s)", h("span", { class: "obligatoire" }, " (obligatoire)")),
    ages ? h("p", { class: "aide" }, `Bénéficiaires de ${ages.min} à ${ages.max} ans.`) : null,
    boxes.length ? boxes : h("p", {}, "Aucun de vos bénéficiaires n'est concerné par cette démarche."),
  );
  return {
    element,
    collect: () => Array.from(element.querySelectorAll("input:checked")).map((i) => i.value),
  };
}
