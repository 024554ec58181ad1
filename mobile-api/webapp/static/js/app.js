// app.js: the shell — the header (language, live status, log-out), the
// hash router, the websocket shared by every screen, and staff log-in.
import * as api from "./api.js";
import { t, languages, getLang, setLang, errorText } from "./i18n.js";
import { h, replace, field, form, toast } from "./ui.js";

export const state = { session: api.session(), currency: "CNY", stores: null };

const main = document.getElementById("main");
const header = document.getElementById("header");
let live = null, liveState = "offline", cleanup = null;
const subs = new Set();

// onLive subscribes the open screen to websocket events; onReady runs after
// every (re)connection, so a screen reloads what it may have missed. It
// returns the unsubscribe function the router calls on leaving the screen.
export function onLive(onEvent, onReady) {
  const s = { onEvent, onReady };
  subs.add(s);
  return () => subs.delete(s);
}

export function go(hash, replaceIt) {
  if (location.hash === hash) route();
  else if (replaceIt) { history.replaceState(null, "", hash); route(); }
  else location.hash = hash;
}

function startLive() {
  if (live || !state.session) return;
  live = new api.Live(
    (ev) => {
      if (state.session.kind === "wallet" && ev.type === "payment.paying") import("./wallet.js").then((w) => w.askConfirmation(ev));
      for (const s of subs) s.onEvent && s.onEvent(ev);
    },
    () => { for (const s of subs) s.onReady && s.onReady(); },
    (st) => { liveState = st; drawHeader(); });
}
function stopLive() { if (live) { live.close(); live = null; } }

api.onSessionEnd((reason) => {
  stopLive();
  const kind = state.session && state.session.kind;
  state.session = null;
  if (reason && reason !== "LOGGED_OUT") toast(errorText({ code: reason }));
  go(kind === "wallet" ? "#/wallet/login" : "#/login");
});

function homeOf(s) {
  if (!s) return "#/login";
  if (s.kind === "wallet") return "#/wallet/home";
  return { owner: "#/owner/balance", manager: "#/manager/overview", cashier: "#/cashier" }[s.staff && s.staff.role] || "#/cashier";
}

function drawHeader() {
  const s = state.session;
  const who = s ? (s.kind === "wallet" ? `${t("wallet")} · ${s.wallet && s.wallet.phone}` : `${s.staff.name} · ${t(s.staff.role)}`) : t("app");
  replace(header,
    h("a", { href: homeOf(s), class: "brand", "aria-label": "paydesk" }, "paydesk"),
    h("span", { class: "who" }, who),
    s && h("span", { class: `live ${liveState}`, role: "status", "aria-label": t(liveState), title: t(liveState) }),
    h("select", { "aria-label": t("language"), onchange: (e) => { setLang(e.target.value); drawHeader(); route(); } },
      languages.map(([v, short, long]) => h("option", { value: v, selected: v === getLang(), "aria-label": long }, short))),
    s && h("button", { type: "button", class: "ghost", onclick: () => api.logout() }, t("logout")));
}

function staffLogin(main) {
  replace(main, h("section", { class: "login" },
    h("h1", {}, t("staff_login")),
    form({ "aria-label": t("staff_login") }, [
      field(t("phone"), { name: "phone", type: "tel", autocomplete: "username", required: true }),
      field(t("password"), { name: "password", type: "password", autocomplete: "current-password", required: true }),
      h("button", { type: "submit", class: "primary" }, t("login")),
    ], async (v) => {
      await api.staffLogin(v.phone, v.password);
      go(homeOf(api.session()));
    }),
    h("a", { href: "#/wallet/login", class: "link" }, t("i_am_customer"))));
}

async function route() {
  if (cleanup) { try { cleanup(); } catch { /* screen gone */ } cleanup = null; }
  subs.clear();
  state.session = api.session();
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  const s = state.session;
  const [a, b] = parts;
  if (!s && !(a === "login" || (a === "wallet" && b === "login"))) return go(a === "wallet" ? "#/wallet/login" : "#/login", true);
  if (s && (a === "login" || (a === "wallet" && b === "login") || a === "")) return go(homeOf(s), true);
  if (s && s.kind === "wallet" && a !== "wallet") return go(homeOf(s), true);
  if (s && s.kind === "staff" && a === "wallet") return go(homeOf(s), true);
  drawHeader();
  if (s) {
    startLive();
    // A role's screens only; the API refuses the rest anyway.
    const role = s.kind === "staff" ? s.staff.role : "customer";
    if ((a === "owner" && role !== "owner") || (a === "manager" && role === "cashier")) return go(homeOf(s), true);
    if (s.kind === "staff" && s.staff.role !== "cashier" && state.stores === null) { const m = await import("./merchant.js"); await m.loadStores(); }
  }
  main.focus({ preventScroll: true });
  let r;
  if (a === "login") r = staffLogin(main);
  else if (a === "wallet") {
    const w = await import("./wallet.js");
    r = b === "login" ? w.walletLogin(main) : w.walletScreen(main, b);
  } else if (a === "manager" || a === "owner") {
    const m = await import("./merchant.js");
    r = a === "owner" ? m.ownerScreen(main, b) : m.managerScreen(main, b);
  } else {
    const c = await import("./cashier.js");
    if (a === "order") r = c.orderScreen(main, b);
    else if (a === "refused") r = c.refusedScreen(main);
    else if (a === "cashier" && b === "qr") r = c.qrScreen(main, parts[2]);
    else if (a === "cashier" && b === "scan") r = c.scanScreen(main);
    else if (a === "cashier" && b === "dynamic") r = c.dynamicScreen(main);
    else if (a === "cashier" && b === "orders") r = c.cashierOrders(main);
    else r = c.cashierHome(main);
  }
  if (typeof r === "function") cleanup = r;
}

addEventListener("hashchange", route);
route();

if ("serviceWorker" in navigator && location.protocol !== "file:") {
  navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => {});
}
