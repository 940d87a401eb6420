// Small DOM helpers: every text goes in as text (never as HTML), so nothing a member or the API
// wrote can run as markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(typographic(String(child))));
  }
}

// French typography's spaces, which never break (as the letters' `fr.typographic`): before
// « : » a no-break space, before « ; ! ? » a narrow one, inside « » a no-break one. A phone's
// line began with « : » alone, or ended with « « ».
export function typographic(text) {
  return text
    .replace(/ ([:»])/g, "\u00a0$1")
    .replace(/« /g, "«\u00a0")
    .replace(/ ([;!?])/g, "\u202f$1");
}

// The tab's title says which page this is (RGAA 8.6): the page's own heading, then the part
// of the portal it is in when that says more, then Génération.
export function titleFrom(...parts) {
  const kept = [];
  for (const part of parts) {
    const text = part && part.trim();
    if (text && !kept.includes(text) && text !== "Génération") kept.push(text);
  }
  document.title = [...kept, "Génération"].join(" — ");
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;
export function uid(prefix = "c") {
  ids += 1;
  return `${prefix}-${ids}`;
}

// One polite live region for statuses that are not next to a field.
export function announce(message) {
  const region = document.getElementById("annonce");
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = message;
  }, 50);
}

const PARIS = "Europe/Paris";

// « 1er mars 2027 », as the letters write it (`letters/french.py`), not « 1 mars 2027 ».
function french(date, options) {
  return new Intl.DateTimeFormat("fr-FR", { timeZone: PARIS, ...options }).formatToParts(date)
    .map((part) => (part.type === "day" && part.value === "1" ? "1er" : part.value)).join("");
}

export function formatDate(value) {
  if (!value) return "";
  const date = value.length === 10 ? new Date(`${value}T12:00:00Z`) : new Date(value);
  return french(date, { day: "numeric", month: "long", year: "numeric" });
}

// Today's date in Paris, as the API counts days and ages: [year, month, day]. Not the UTC date
// (still the day before from midnight to 01:00 or 02:00 in Paris), nor the browser's own.
export function parisToday() {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone: PARIS, year: "numeric", month: "numeric", day: "numeric" })
    .formatToParts(new Date());
  const part = (type) => Number(parts.find((p) => p.type === type).value);
  return [part("year"), part("month"), part("day")];
}

export function formatDateTime(value) {
  return french(new Date(value), { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function formatMonth(month) {
  const label = new Date(`${month}-15T12:00:00Z`).toLocaleDateString("fr-FR", { month: "long", year: "numeric", timeZone: PARIS });
  return label.charAt(0).toUpperCase() + label.slice(1);
}

export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} o`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} Ko`;
  return `${(bytes / 1024 / 1024).toFixed(1).replace(".", ",")} Mo`;
}

export function beneficiaryNames(beneficiaries) {
  return beneficiaries.map((b) => `${b.first_name} ${b.last_name}`).join(", ");
}

// A page heading that takes the focus, so a screen reader hears where a link led.
export function heading(text, level = 1) {
  return h(`h${level}`, { tabindex: "-1", class: "titre-page" }, text);
}

export function focusHeading(root) {
  const title = root.querySelector(".titre-page");
  if (title) title.focus();
}

// A button disabled while its action runs loses the focus (Chromium hands it to the page, and
// the keyboard starts again from the top): the returned function enables it again and gives
// the focus back, if it had it and nothing else took it meanwhile.
// « Voir plus »: `next()` adds the next page, one page at a time (a double click sent the same
// cursor twice and listed its page twice), the button busy meanwhile.
export function onePageAtATime(more, next) {
  let pending = false;
  more.addEventListener("click", async () => {
    if (pending) return;
    pending = true;
    const enable = disableWhileBusy(more);
    try {
      await next();
    } finally {
      pending = false;
      enable();
    }
  });
}

export function disableWhileBusy(button) {
  const focused = document.activeElement === button;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  return () => {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    const lost = !document.activeElement || document.activeElement === document.body;
    if (focused && lost && button.isConnected) button.focus();
  };
}
