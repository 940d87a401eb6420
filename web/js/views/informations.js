// « La consultation de vos informations et de celles de vos bénéficiaires » (Vie personnelle).
import { h, heading, replace, formatDate } from "../dom.js";
import { get } from "../api.js";
import { myBeneficiaries } from "../beneficiaries.js";

export async function renderInformations(main) {
  const [me, beneficiaries] = await Promise.all([get("/me"), myBeneficiaries()]);
  const address = me.postal_address;
  const row = (k, v) => [h("dt", {}, k), h("dd", {}, v || "—")];
  replace(main, h("div", { class: "page" },
    heading("Mes informations"),
    h("section", { class: "carte" }, h("h2", {}, "Adhérent(e)"), h("dl", { class: "resume" },
      row("Nom", `${me.first_name} ${me.last_name}`), row("N° d'adhérent", me.member_id), row("E-mail", me.email), row("Téléphone", me.phone),
      row("Adresse", address ? [address.line1, address.line2, `${address.postal_code} ${address.city}`].filter(Boolean).join(", ") : null),
      row("Compte bancaire", me.bank_account ? `${me.bank_account.iban_masked} (${me.bank_account.holder_name})` : null),
      row("Contrat", me.contract ? `${me.contract.formula}, n° ${me.contract.contract_number}, depuis le ${formatDate(me.contract.start_date)}` : null))),
    h("section", { class: "carte" }, h("h2", {}, "Mes bénéficiaires"), h("ul", {}, beneficiaries.map((b) => h("li", {},
      `${b.first_name} ${b.last_name}, né(e) le ${formatDate(b.birth_date)}`, b.coverage_end ? ` — couvert(e) jusqu'au ${formatDate(b.coverage_end)}` : ""))))));
}
