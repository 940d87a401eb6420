// The partner search: a specialty, a postal code and, if the member wants, a radius; nearest
// first, « Voir plus » with the cursor.
import { h, heading, replace, uid, announce, onePageAtATime } from "../dom.js";
import { get, getCatalog } from "../api.js";
import { guard } from "../submit.js";

const RADII_KM = [5, 10, 20, 50, 100];
const WIDEST_KM = RADII_KM[RADII_KM.length - 1];

// Nobody found: widening is offered only where a wider radius is left to choose.
function nobodyFound(radius) {
  return Number(radius) === WIDEST_KM
    ? `Aucun professionnel partenaire trouvé à moins de ${WIDEST_KM} km.`
    : "Aucun professionnel partenaire trouvé. Élargissez le rayon.";
}

export async function renderProfessionnels(main) {
  const catalog = await getCatalog();
  const ids = { specialty: uid("champ"), postal: uid("champ"), radius: uid("champ") };
  const form = h("form", { class: "formulaire filtres", novalidate: true, dataset: { failure: "La recherche n'a pas pu être faite :" } },
    h("div", { class: "champ", dataset: { field: "specialty" } }, h("label", { for: ids.specialty }, "Spécialité"),
      h("select", { id: ids.specialty, name: "specialty" }, h("option", { value: "" }, "Choisissez…"),
        catalog.specialties.map((s) => h("option", { value: s.code }, s.label)))),
    h("div", { class: "champ", dataset: { field: "postal_code" } }, h("label", { for: ids.postal }, "Code postal"),
      h("p", { class: "aide", id: `${ids.postal}-aide` }, "5 chiffres, par ex. 75011"),
      h("input", { id: ids.postal, name: "postal_code", type: "text", inputmode: "numeric", maxlength: "5", autocomplete: "postal-code", "aria-describedby": `${ids.postal}-aide` })),
    h("div", { class: "champ", dataset: { field: "radius_km" } }, h("label", { for: ids.radius }, "Rayon"),
      h("select", { id: ids.radius, name: "radius_km" }, h("option", { value: "" }, "Dans le département"),
        RADII_KM.map((km) => h("option", { value: String(km) }, `${km} km`)))),
    h("button", { type: "submit", class: "principal" }, "Rechercher"));
  const results = h("div", { class: "resultats", "aria-live": "polite" });
  const more = h("button", { type: "button", class: "secondaire", hidden: true }, "Voir plus");
  replace(main, h("div", { class: "page" }, heading("Rechercher un professionnel de santé partenaire"), form, results, more));
  let cursor = null;
  let list = null;
  // Which search the list shows: a « Voir plus » answer of an earlier one is dropped.
  let searches = 0;
  function show(page, reset, radius) {
    if (reset) {
      list = h("ol", { class: "professionnels" });
      replace(results, h("p", {}, `Autour de ${page.area.city || page.area.postal_code || "ce code postal"}, du plus proche au plus éloigné :`), list);
      if (!page.professionals.length) replace(results, h("p", {}, nobodyFound(radius)));
    }
    for (const p of page.professionals) {
      list.append(h("li", {}, h("strong", {}, p.name), ` — ${p.specialty_label}`, h("br"),
        `${p.address}, ${p.postal_code} ${p.city}`, h("br"),
        h("a", { href: `tel:${p.phone.replace(/\s/g, "")}` }, p.phone), ` — à ${p.distance_km.toFixed(1).replace(".", ",")} km`));
    }
    cursor = page.next_cursor;
    more.hidden = !cursor;
  }
  guard(form, async () => {
    const query = { specialty: form.elements.specialty.value, postal_code: form.elements.postal_code.value.trim(), radius_km: form.elements.radius_km.value };
    searches += 1; // before the answer: a « Voir plus » answering meanwhile is dropped
    const page = await get("/professionals", query);
    show(page, true, query.radius_km);
    announce(`${page.professionals.length} professionnel${page.professionals.length > 1 ? "s" : ""} trouvé${page.professionals.length > 1 ? "s" : ""}.`);
  });
  onePageAtATime(more, async () => {
    if (!cursor) return;
    const asked = searches;
    const page = await get("/professionals", { cursor });
    if (asked === searches) show(page, false);
  });
}
