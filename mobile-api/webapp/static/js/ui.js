// ui.js: a few DOM helpers shared by the screens.
import { t, errorText } from "./i18n.js";

// h builds an element: h("button", {class: "big", onclick: fn}, "text", child…).
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "html") throw new Error("no raw html");
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  append(el, kids);
  return el;
}
function append(el, kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
}
export function replace(el, ...kids) { el.replaceChildren(); append(el, kids); return el; }

let fieldSeq = 0;
// field is a labelled input: field(t("phone"), {name: "phone", type: "tel"}).
export function field(label, attrs) {
  const id = "f" + ++fieldSeq;
  const input = attrs && attrs.options
    ? h("select", { id, name: attrs.name, "aria-label": label }, attrs.options.map(([v, l]) => h("option", { value: v, selected: attrs.value === v }, l)))
    : h("input", { id, ...attrs });
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}

// form wires a submit handler that gets the form's values, shows a busy
// state and turns a thrown ApiError into plain words under the form.
export function form(attrs, kids, onsubmit) {
  const err = h("p", { class: "error", role: "alert", "aria-live": "assertive" });
  const f = h("form", { ...attrs, novalidate: true }, kids, err);
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.textContent = "";
    const btns = f.querySelectorAll("button");
    btns.forEach((b) => (b.disabled = true));
    try {
      await onsubmit(Object.fromEntries(new FormData(f)), e.submitter);
    } catch (ex) {
      err.textContent = errorText(ex);
      if (!ex.code) console.error(ex);
    } finally {
      btns.forEach((b) => (b.disabled = false));
    }
  });
  return f;
}

export function errorBox(ex, retry) {
  return h("div", { class: "card error", role: "alert" }, h("p", {}, errorText(ex)), retry && h("button", { type: "button", onclick: retry }, t("retry")));
}

// confirmDialog asks a yes/no question in a modal <dialog>.
export function confirmDialog(title, body, yes = t("confirm"), no = t("cancel")) {
  return new Promise((resolve) => {
    const d = h("dialog", { "aria-labelledby": "dlg-title", class: "dialog" },
      h("h2", { id: "dlg-title" }, title), body && h("p", {}, body),
      h("div", { class: "row" },
        h("button", { type: "button", class: "secondary", onclick: () => { d.close(); resolve(false); } }, no),
        h("button", { type: "button", class: "primary", "data-testid": "dialog-yes", onclick: () => { d.close(); resolve(true); } }, yes)));
    d.addEventListener("close", () => { d.remove(); resolve(false); });
    document.body.append(d);
    d.showModal();
  });
}

let toastTimer;
export function toast(text) {
  const el = document.getElementById("toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 3000);
}

// blobImage shows a PNG fetched with the token (an <img src> cannot send it).
export function blobImage(fetchBlob, alt, cls) {
  const img = h("img", { alt, class: cls || "qr", role: "img" });
  fetchBlob().then((b) => {
    const old = img.src;
    img.src = URL.createObjectURL(b);
    if (old) URL.revokeObjectURL(old);
  }).catch((e) => { img.alt = alt + ": " + errorText(e); });
  return img;
}

export function tabs(list, current, base) {
  return h("nav", { class: "tabs", "aria-label": "sections" },
    list.map(([id, label]) => h("a", { href: `#/${base}/${id}`, "aria-current": id === current ? "page" : undefined }, label)));
}

// barChart draws the days' net figures as an accessible SVG bar chart.
export function barChart(days, valueOf, label, fmt) {
  const W = 320, H = 120, n = Math.max(days.length, 1), bw = W / n;
  const max = Math.max(1, ...days.map(valueOf));
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H + 14}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.classList.add("chart");
  days.forEach((d, i) => {
    const v = valueOf(d), bh = Math.round((v / max) * H);
    const r = document.createElementNS(ns, "rect");
    r.setAttribute("x", String(i * bw + 1)); r.setAttribute("width", String(Math.max(1, bw - 2)));
    r.setAttribute("y", String(H - bh)); r.setAttribute("height", String(bh));
    const tt = document.createElementNS(ns, "title");
    tt.textContent = `${d.date}: ${fmt(v)}`;
    r.append(tt);
    svg.append(r);
  });
  for (const [i, anchor] of [[0, "start"], [days.length - 1, "end"]]) {
    if (!days[i]) continue;
    const tx = document.createElementNS(ns, "text");
    tx.setAttribute("x", anchor === "start" ? "0" : String(W)); tx.setAttribute("y", String(H + 12));
    tx.setAttribute("text-anchor", anchor);
    tx.textContent = days[i].date.slice(5);
    svg.append(tx);
  }
  return svg;
}
