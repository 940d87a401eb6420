// The beneficiaries a démarche concerns: one checkbox each, from `GET /me/beneficiaries`,
// restricted to what the catalogue's type allows: the ages (`beneficiary_ages`: whole years, `min`
// and `max` both included, so an adult child's extension offers the 25-year-olds) and the bonds
// (`beneficiary_relationships`: an adult child's extension offers no spouse of 18 to 25).
import { h, uid, formatDate, parisToday } from "./dom.js";
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

const PLURALS = { member: "Adhérent(e)s", spouse: "Conjoint(e)s", child: "Enfants" };

// Whole years on today's Paris date, as the API's `age_on` counts them (one born on 29 February
// has their birthday on 1 March in a common year).
function age(birthDate) {
  const [year, month, day] = parisToday();
  const [bornYear, bornMonth, bornDay] = birthDate.split("-").map(Number);
  const before = month < bornMonth || (month === bornMonth && day < bornDay);
  return year - bornYear - (before ? 1 : 0);
}

export function beneficiaryField(beneficiaries, type = {}) {
  const ages = type.beneficiary_ages;
  const bonds = type.beneficiary_relationships;
  const eligible = beneficiaries.filter((b) => (!ages || (age(b.birth_date) >= ages.min && age(b.birth_date) <= ages.max))
    && (!bonds || bonds.includes(b.relationship)));
  const who = bonds ? bonds.map((r) => PLURALS[r] || r).join(", ") : "Bénéficiaires";
  const boxes = eligible.map((b) => {
    const id = uid("benef");
    const box = h("input", { type: "checkbox", id, name: "beneficiary_ids", value: b.beneficiary_id });
    if (eligible.length === 1) box.checked = true;
    return h("div", { class: "case" }, box,
      h("label", { for: id }, `${b.first_name} ${b.last_name}`, h("span", { class: "discret" }, ` — ${RELATIONSHIPS[b.relationship] || ""}, né(e) le ${formatDate(b.birth_date)}`)));
  });
  const hint = ages ? `${who} de ${ages.min} à ${ages.max} ans.` : bonds ? `${who}.` : null;
  const hintId = hint ? `${uid("benef")}-aide` : null;
  const element = h("fieldset", { class: "groupe", dataset: { field: "beneficiary_ids" }, "aria-describedby": hintId },
    h("legend", {}, "Bénéficiaire(s) concerné(s)", h("span", { class: "obligatoire" }, " (obligatoire)")),
    hint ? h("p", { class: "aide", id: hintId }, hint) : null,
    boxes.length ? boxes : h("p", {}, "Aucun de vos bénéficiaires n'est concerné par cette démarche."),
  );
  return {
    element,
    collect: () => Array.from(element.querySelectorAll("input:checked")).map((i) => i.value),
  };
}
