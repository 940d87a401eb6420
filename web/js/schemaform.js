// Forms generated from a JSON schema (the catalogue's `data_schema` of a type): one field per
// property, labelled with its `title`, hinted with its `description`, a list of choices for an
// enum (labels from `x-enum-labels`), a date picker for `format: date`, a group for an object.
// No form is written per type: a new type in the catalogue gets its form from its schema.
import { h, uid, formatDate } from "./dom.js";

function resolve(schema, root) {
  if (schema && schema.$ref) {
    const name = schema.$ref.split("/").pop();
    const target = (root.$defs || {})[name] || {};
    const { $ref, ...rest } = schema;
    return { ...target, ...rest };
  }
  return schema || {};
}

// `anyOf: [X, {type: null}]` is an optional X.
function unwrapOptional(schema, root) {
  const branches = schema.anyOf;
  if (Array.isArray(branches) && branches.some((b) => b.type === "null")) {
    const others = branches.filter((b) => b.type !== "null");
    if (others.length === 1) {
      const { anyOf, ...rest } = schema;
      return { schema: { ...resolve(others[0], root), ...rest }, nullable: true };
    }
  }
  return { schema: resolve(schema, root), nullable: false };
}

// Builds the fields of an object schema under `path` (e.g. "data"). Returns {element, collect}.
export function objectFields(schema, path, root = schema, { legend } = {}) {
  const required = new Set(schema.required || []);
  const children = Object.entries(schema.properties || {}).map(([name, property]) =>
    field(name, property, `${path}.${name}`, required.has(name), root),
  );
  const nodes = children.map((c) => c.element);
  const element = legend
    ? h("fieldset", { class: "groupe", dataset: { field: path } }, h("legend", {}, legend), nodes)
    : h("div", { class: "champs", dataset: { field: path } }, nodes);
  return {
    element,
    collect() {
      const value = {};
      for (const child of children) {
        const v = child.collect();
        if (v !== undefined) value[child.name] = v;
      }
      return value;
    },
  };
}

// An amount in euros: the API writes it « 42.50 » (its examples say so), a member « 42,50 ».
function isAmount(schema) {
  return (schema.examples || []).some((e) => /^\d+\.\d{2}$/.test(e));
}

// What a member types as an amount (« 42,50 », « 42,5 », « 1 250 € », « 42 ») as the API
// takes it (« 42.50 »); anything else is sent as typed, for the API to say what is wrong.
function amountOf(typed) {
  const plain = typed.replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(plain);
  return match ? `${match[1]}.${(match[2] || "").padEnd(2, "0")}` : typed;
}

export function formatAmount(value) {
  return Number(value).toLocaleString("fr-FR", { style: "currency", currency: "EUR" });
}

function field(name, rawSchema, path, required, root) {
  const { schema } = unwrapOptional(rawSchema, root);
  const label = schema.title || name;
  if (schema.type === "object" && schema.properties) {
    const group = objectFields(schema, path, root, { legend: required ? label : `${label} (facultatif)` });
    if (schema.description) {
      // Read with the group's name when a field of it takes the focus (a bare paragraph was
      // never heard by someone moving from field to field).
      const hintId = `${uid("groupe")}-aide`;
      group.element.insertBefore(h("p", { class: "aide", id: hintId }, schema.description), group.element.children[1]);
      group.element.setAttribute("aria-describedby", hintId);
    }
    return {
      name,
      element: group.element,
      collect() {
        const value = group.collect();
        // An optional group left blank is not sent, even where its own fields are required.
        const blank = Object.values(value).every((v) => v === "" || v === undefined);
        return blank && !required ? undefined : value;
      },
    };
  }
  const id = uid("champ");
  // The API's hint of an amount gives its own writing (« 42.50 »); a member types « 42,50 ».
  const hint = isAmount(schema) ? "Montant en euros, par ex. « 42,50 »." : schema.description;
  const hintId = hint ? `${id}-aide` : null;
  let input;
  if (Array.isArray(schema.enum)) {
    const labels = schema["x-enum-labels"] || {};
    input = h("select", { id, name: path },
      h("option", { value: "" }, "Choisissez…"),
      schema.enum.map((code) => h("option", { value: code }, labels[code] || code)),
    );
  } else if (schema.type === "boolean") {
    input = h("input", { id, name: path, type: "checkbox" });
    return wrap(name, path, h("div", { class: "champ case", dataset: { field: path } },
      input, h("label", { for: id }, label)), () => input.checked);
  } else if (schema.type === "integer" || schema.type === "number") {
    input = h("input", { id, name: path, type: "number", min: schema.minimum, max: schema.maximum });
  } else {
    const type = schema.format === "date" ? "date" : schema.format === "email" ? "email" : "text";
    input = h("input", {
      id, name: path, type, maxlength: schema.maxLength,
      inputmode: isAmount(schema) ? "decimal" : null,
      autocomplete: "off",
    });
  }
  if (schema.default !== undefined && schema.default !== null) input.value = String(schema.default);
  if (hintId) input.setAttribute("aria-describedby", hintId);
  if (required) input.setAttribute("aria-required", "true");
  const element = h("div", { class: "champ", dataset: { field: path } },
    h("label", { for: id }, label, required ? h("span", { class: "obligatoire" }, " (obligatoire)") : null),
    hintId ? h("p", { class: "aide", id: hintId }, hint) : null,
    input,
  );
  return wrap(name, path, element, () => {
    const value = input.value.trim();
    // Left empty, it is not sent: the API then says « Champ requis. » of a required one (an
    // empty string was « Format invalide. », as if the member had typed something wrong).
    if (value === "") return undefined;
    // A value left at its default is not sent: the server applies the same default, and an
    // optional group (a postal address with its country) stays empty until the member fills it.
    if (!required && schema.default !== undefined && value === String(schema.default)) return undefined;
    if (input.type === "number") return Number(value);
    if (isAmount(schema)) return amountOf(value);
    return value;
  });
}

function wrap(name, path, element, collect) {
  return { name, path, element, collect };
}

// The recall of a request: what was filed, labelled with the schema's titles and enum labels.
export function recallList(data, schema, root = schema) {
  const list = h("dl", { class: "rappel" });
  for (const [name, value] of Object.entries(data || {})) {
    if (value === null || value === undefined || value === "") continue;
    const property = schema && schema.properties ? schema.properties[name] : null;
    const { schema: resolved } = property ? unwrapOptional(property, root) : { schema: {} };
    const label = resolved.title || name;
    let shown;
    if (value && typeof value === "object") {
      shown = recallList(value, resolved, root);
    } else {
      const labels = resolved["x-enum-labels"] || {};
      shown = labels[value]
        || (resolved.format === "date" ? formatDate(value) // the day filed, wherever the browser is
          : isAmount(resolved) ? formatAmount(value) : String(value));
    }
    list.append(h("dt", {}, label), h("dd", {}, shown));
  }
  return list;
}
