// One submission at a time per form, and one Idempotency-Key per submission: a double click,
// or a retry after a lost answer, files once. The key changes only once a submission succeeds
// (the next one is another démarche); uploaded files are reused while the chosen files stay
// the same, so a retry sends the same body.
import { clearErrors, showErrors } from "./errors.js";
import { disableWhileBusy } from "./dom.js";

export function newKey() {
  return crypto.randomUUID();
}

export function guard(form, run) {
  let key = newKey();
  let pending = null;
  const button = () => form.querySelector("button[type=submit]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (pending) return;
    const submit = button();
    const enable = submit ? disableWhileBusy(submit) : () => {};
    form.setAttribute("aria-busy", "true");
    clearErrors(form);
    pending = (async () => {
      try {
        await run(key);
        key = newKey();
      } catch (error) {
        if (error.status === 409 && (error.fields || []).some((f) => f.field === "Idempotency-Key")) {
          // A try whose answer was lost went through, and the form changed since: the key of
          // that try is spent. Say so plainly; a new key lets a deliberate resend go.
          key = newKey();
          error.fields = [];
          error.message = "Votre envoi précédent a sans doute abouti sans que sa réponse nous parvienne : vérifiez dans « Le suivi des demandes » avant d'envoyer à nouveau.";
        }
        showErrors(form, error);
      } finally {
        pending = null;
        form.removeAttribute("aria-busy");
        enable();
      }
    })();
  });
}

// Upload ids of a file field, kept while the member does not change the files chosen.
export function cachedUploads(files) {
  let ids = null;
  files.input.addEventListener("change", () => {
    ids = null;
  });
  return async () => {
    if (ids === null) {
      try {
        ids = await files.upload();
      } catch (error) {
        // `POST /uploads` names `content_type` or `size`: those are the file field's errors.
        if (error.fields && error.fields.length) {
          error.fields = error.fields.map((f) => ({ field: "upload_ids", message: f.message }));
        } else {
          error.fields = [{ field: "upload_ids", message: error.message }];
        }
        throw error;
      }
    }
    return ids;
  };
}
