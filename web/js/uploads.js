// Files: `POST /uploads` gives a presigned POST (its policy fixes the key, the type and the
// size), then the browser sends the file straight to the bucket. XMLHttpRequest, because only
// it reports upload progress.
import { h, uid, formatSize, announce } from "./dom.js";
import { post } from "./api.js";

export const ACCEPTED = "application/pdf,image/jpeg,image/png,image/gif";

// The API names a refused upload by its id (« Pièce jointe 01J…: … »), which the member never
// saw: the portal says the name of the file they chose instead.
const names = new Map();
export function withFileNames(message) {
  return String(message).replace(/\b[0-9A-Z]{26}\b/g, (id) => (names.has(id) ? `« ${names.get(id)} »` : id));
}

// A file field with its list: each file chosen, with its progress bar, its state and a
// « Retirer » button (a file input lets one choose files, never take one back). Returns
// {element, input, upload()}.
// The browser draws a file input's button and status in its own language (« Choose Files »,
// « No file chosen »): the input is visually hidden (still the one focused and named), and the
// portal's own label « Choisir des fichiers », drawn as a button, opens the picker. That label
// is hidden from assistive technologies, which hear it in the input's name instead.
export function fileField({ name, label, required = false, hint }) {
  const id = uid("fichiers");
  const hintId = `${id}-aide`;
  const input = h("input", {
    type: "file", id, name, multiple: true, accept: ACCEPTED, class: "sr-only",
    "aria-labelledby": `${id}-titre ${id}-bouton`,
    "aria-describedby": hintId, "aria-required": required ? "true" : null,
  });
  const progress = h("ul", { class: "progressions", "aria-live": "polite" });
  let rows = [];
  function list() {
    rows = Array.from(input.files || []).map((file, index) => {
      const bar = h("progress", { max: "100", value: "0", "aria-label": `Envoi de ${file.name}` });
      const status = h("span", { class: "etat" }, "en attente");
      const remove = h("button", { type: "button", class: "lien", "aria-label": `Retirer ${file.name}`,
        onclick: () => take(index) }, "Retirer");
      return { file, bar, status, remove, item: h("li", {}, h("span", { class: "nom" }, `${file.name} (${formatSize(file.size)})`), " ", bar, " ", status, " ", remove) };
    });
    progress.replaceChildren(...rows.map((r) => r.item));
  }
  // The choice without one file: the next file's « Retirer » takes the focus, or the input.
  function take(index) {
    const kept = new DataTransfer();
    rows.forEach((r, i) => { if (i !== index) kept.items.add(r.file); });
    const name = rows[index].file.name;
    input.files = kept.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    const next = rows[Math.min(index, rows.length - 1)];
    (next ? next.remove : input).focus();
    announce(`${name} est retiré.`);
  }
  input.addEventListener("change", list);
  const element = h("div", { class: "champ", dataset: { field: name } },
    h("label", { for: id, id: `${id}-titre` }, label, required ? h("span", { class: "obligatoire" }, " (obligatoire)") : null),
    h("p", { class: "aide", id: hintId }, hint || "PDF, JPEG, PNG ou GIF ; 5 Mo au plus par fichier, 5 fichiers et 15 Mo en tout."),
    h("div", { class: "choix-fichiers" },
      input,
      h("label", { for: id, id: `${id}-bouton`, class: "bouton secondaire", "aria-hidden": "true" }, "Choisir des fichiers")),
    progress,
  );
  return {
    element,
    input,
    async upload() {
      const sending = rows;
      for (const row of sending) {
        row.bar.value = 0;
        row.status.textContent = "en attente";
        row.remove.disabled = true; // the choice sent is the one shown
      }
      try {
        const ids = [];
        for (const row of sending) ids.push(await uploadOne(row));
        return ids;
      } finally {
        for (const row of sending) row.remove.disabled = false;
      }
    },
  };
}

async function uploadOne({ file, bar, status }) {
  let ticket;
  try {
    ticket = await post("/uploads", {
      filename: file.name,
      content_type: file.type || "application/octet-stream",
      size: file.size,
    });
  } catch (error) {
    status.textContent = "refusé"; // its type or size: the reason is said at the file field
    throw error;
  }
  names.set(ticket.upload_id, file.name);
  await new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [key, value] of Object.entries(ticket.fields)) form.append(key, value);
    form.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", ticket.url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.value = Math.round((event.loaded / event.total) * 100);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        bar.value = 100;
        status.textContent = "envoyé";
        resolve();
      } else {
        status.textContent = "échec";
        reject(uploadError(file, "Le fichier n'a pas pu être envoyé."));
      }
    });
    xhr.addEventListener("error", () => {
      status.textContent = "échec";
      reject(uploadError(file, "Le fichier n'a pas pu être envoyé (réseau)."));
    });
    xhr.send(form);
  });
  return ticket.upload_id;
}

function uploadError(file, message) {
  const error = new Error(`${file.name} : ${message}`);
  error.fields = [{ field: "upload_ids", message: `${file.name} : ${message}` }];
  return error;
}
