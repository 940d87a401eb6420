// API errors shown where they belong: each `error.fields[].field` (`data.iban`,
// `beneficiary_ids`, `upload_ids`…) next to the field of the same path (`data-field`), the rest
// in a summary at the top of the form, which takes the focus.
import { h, uid } from "./dom.js";
import { withFileNames } from "./uploads.js";

// While a form shows its errors, the tab's title begins with « Erreur » (WCAG G88): the first
// thing a screen reader says of the page, and what a member sees who switched tabs.
const ERROR_MARK = "Erreur\u00a0: ";

export function clearErrors(form) {
  for (const old of form.querySelectorAll(".erreur, .resume-erreurs")) old.remove();
  if (document.title.startsWith(ERROR_MARK)) document.title = document.title.slice(ERROR_MARK.length);
  for (const invalid of form.querySelectorAll("[aria-invalid]")) {
    invalid.removeAttribute("aria-invalid");
    const described = (invalid.getAttribute("aria-describedby") || "").split(" ").filter((i) => !i.startsWith("erreur-"));
    if (described.length) invalid.setAttribute("aria-describedby", described.join(" "));
    else invalid.removeAttribute("aria-describedby");
  }
}

// `upload_ids[1]`, `beneficiary_ids[0]`: an item's error goes to its list's field.
function holderOf(form, path) {
  const parts = path.replace(/\[\d+\]/g, "").split(".");
  while (parts.length) {
    const candidate = form.querySelector(`[data-field="${CSS.escape(parts.join("."))}"]`);
    if (candidate) return candidate;
    parts.pop();
  }
  return null;
}

// The field's own name, without its « (obligatoire) » mark: the summary says which field.
function labelOf(control, holder) {
  const named = holder.tagName === "FIELDSET" ? holder.querySelector("legend") : control.labels && control.labels[0];
  if (!named) return "";
  const copy = named.cloneNode(true);
  for (const mark of copy.querySelectorAll(".obligatoire")) mark.remove();
  return copy.textContent.trim();
}

// The summary says what failed: each form names its own failure (`data-failure`), a démarche's
// by default.
const FAILED = "Votre demande n'a pas pu être envoyée :";

export function showErrors(form, error) {
  clearErrors(form);
  const fields = error.fields || [];
  const unplaced = [];
  const links = [];
  for (const { field, message: said } of fields) {
    const message = withFileNames(said);
    const holder = holderOf(form, field || "");
    if (!holder) {
      unplaced.push(message);
      continue;
    }
    const id = uid("erreur");
    const text = h("p", { class: "erreur", id }, message);
    const control = holder.matches("input, select, textarea") ? holder : holder.querySelector("input, select, textarea");
    if (holder.tagName === "FIELDSET") holder.querySelector("legend").after(text);
    else if (control && control.parentElement === holder) control.after(text);
    else holder.append(text);
    if (control) {
      control.setAttribute("aria-invalid", "true");
      const described = control.getAttribute("aria-describedby");
      control.setAttribute("aria-describedby", described ? `${described} ${id}` : id);
      if (!control.id) control.id = uid("champ");
      const label = labelOf(control, holder);
      links.push({ at: control, item: h("li", {}, h("a", { href: `#${control.id}`, dataset: { target: control.id } }, label ? `${label} : ${message}` : message)) });
    } else {
      links.push({ at: holder, item: h("li", {}, message) });
    }
  }
  // In the form's order, as the member reads it (the API names fields in its own order).
  links.sort((a, b) => (a.at === b.at ? 0 : a.at.compareDocumentPosition(b.at) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
  const summary = h("div", { class: "resume-erreurs", role: "alert", tabindex: "-1" },
    h("p", {}, fields.length ? form.dataset.failure || FAILED : error.message || "La demande n'a pas abouti."),
    links.length || unplaced.length ? h("ul", {}, links.map((l) => l.item), unplaced.map((m) => h("li", {}, m))) : null,
  );
  if (!document.title.startsWith(ERROR_MARK)) document.title = ERROR_MARK + document.title;
  // An in-page link to a field moves the focus to it, without touching the router's hash.
  summary.addEventListener("click", (event) => {
    const target = event.target.closest("a[data-target]");
    if (!target) return;
    event.preventDefault();
    document.getElementById(target.dataset.target).focus();
  });
  form.prepend(summary);
  summary.focus();
}
