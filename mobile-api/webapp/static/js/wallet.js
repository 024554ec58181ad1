// wallet.js: the customer's wallet — balance, vouchers, coupons, card, the
// payment code (barcode and QR, refreshing itself), scan and pay, pushed
// confirmations, history.
import * as api from "./api.js";
import { t, money, parseMoney, when, errorText } from "./i18n.js";
import { h, replace, field, form, blobImage, toast, errorBox, tabs } from "./ui.js";
import { scanner } from "./scanner.js";
import { state, onLive, go } from "./app.js";

const walletTabs = () => [["home", t("home")], ["code", t("pay_code")], ["scan", t("scan_qr")], ["history", t("history")]];

export function walletScreen(main, tab) {
  tab = tab || "home";
  const body = h("div", { class: "tabbody" });
  replace(main, tabs(walletTabs(), tab, "wallet"), body);
  return ({ home, code, scan, history }[tab] || home)(body);
}

function home(body) {
  const box = h("div", {}, t("loading"));
  const load = () => api.wallet().then((w) => {
    state.currency = w.currency;
    replace(box,
      h("div", { class: "card" }, h("h2", {}, t("balance")),
        h("p", { class: "amount", "data-testid": "wallet-cash" }, money(w.cash, w.currency)),
        h("p", { class: "muted" }, `${t("coupons")}: ${money(w.coupons, w.currency)}`),
        h("p", { class: "muted" }, t("no_password_limit", { amount: money(w.no_password_limit, w.currency) }))),
      h("div", { class: "card" }, h("h2", {}, t("vouchers")), list(w.vouchers, (v) => `${money(v.amount, v.currency)} · ${when(v.expires_at)}`)),
      h("div", { class: "card" }, h("h2", {}, t("coupons")), list(w.coupon_list, (c) => `${money(c.remaining, c.currency)} / ${money(c.amount, c.currency)} · ${when(c.expires_at)}`)),
      h("div", { class: "card" }, h("h2", {}, t("card")), w.card ? [h("p", {}, `${w.card.bank_name || ""} •••• ${w.card.last4}`), topUpForm(w.currency, load)] : [h("p", { class: "muted" }, t("no_card")), cardForm(load)]));
  }).catch((e) => replace(box, errorBox(e, load)));
  load();
  replace(body, box);
  return onLive((ev) => { if (ev.type.startsWith("payment.") || ev.type.startsWith("refund.")) load(); }, load);
}

function list(xs, text) {
  xs = xs || [];
  return h("ul", { class: "list plain" }, xs.length ? xs.map((x) => h("li", {}, text(x))) : h("li", { class: "muted" }, t("none")));
}

function topUpForm(currency, done) {
  return form({ "aria-label": t("topup") }, [
    field(t("amount"), { name: "amount", inputmode: "decimal", required: true, autocomplete: "off" }),
    h("button", { type: "submit", class: "secondary" }, t("topup")),
  ], async (v) => {
    const a = parseMoney(v.amount, currency);
    if (!a) throw new api.ApiError("INVALID_AMOUNT", 400);
    await api.topUp("T" + Date.now().toString(36) + Math.random().toString(36).slice(2, 6), a);
    toast(`${t("topup")} ${money(a, currency)} ✓`);
    done();
  });
}

function cardForm(done) {
  return form({ "aria-label": t("bind_card") }, [
    field(t("card_number"), { name: "number", inputmode: "numeric", required: true, autocomplete: "cc-number" }),
    field(t("holder"), { name: "holder", required: true, autocomplete: "cc-name" }),
    h("div", { class: "row" }, field(t("expiry_month"), { name: "expiry_month", inputmode: "numeric", required: true }), field(t("expiry_year"), { name: "expiry_year", inputmode: "numeric", required: true })),
    h("button", { type: "submit", class: "secondary" }, t("bind_card")),
  ], async (v) => { await api.bindCard({ ...v, expiry_month: Number(v.expiry_month), expiry_year: Number(v.expiry_year) }); done(); });
}

// The payment code refreshes itself just before it expires (and when the
// phone wakes up), so the cashier always scans a live one.
function code(body) {
  const text = h("p", { class: "paycode", "data-testid": "pay-code", "aria-live": "polite" });
  const bar = h("div", { class: "barcode" }), qr = h("div", {});
  const dp = h("p", { class: "muted", "data-testid": "dynamic-password" });
  let timer;
  const refresh = async () => {
    clearTimeout(timer);
    try {
      const c = await api.paymentCode();
      text.textContent = c.code.replace(/(\d{4})(?=\d)/g, "$1 ");
      text.dataset.code = c.code;
      replace(bar, blobImage(() => api.paymentCodePicture("barcode"), t("pay_code"), "barcode"));
      replace(qr, blobImage(() => api.paymentCodePicture("qr"), t("pay_code")));
      const ms = Math.max(3000, new Date(c.expires_at).getTime() - Date.now() - 2000);
      timer = setTimeout(refresh, Math.min(ms, 60000));
    } catch (e) { text.textContent = errorText(e); timer = setTimeout(refresh, 5000); }
  };
  const wake = () => { if (!document.hidden) refresh(); };
  document.addEventListener("visibilitychange", wake);
  refresh();
  replace(body, h("section", { class: "card center" }, h("h1", {}, t("pay_code")), bar, text, qr, h("p", { class: "muted" }, t("pay_code_help")),
    h("details", {}, h("summary", {}, t("dyn_password")), dp)));
  body.querySelector("details").addEventListener("toggle", async (e) => {
    if (e.target.open) { try { const d = await api.dynamicPassword(); dp.textContent = `${d.password} · ${when(d.expires_at)}`; } catch (ex) { dp.textContent = errorText(ex); } }
  });
  const off = onLive(() => {});
  return () => { clearTimeout(timer); document.removeEventListener("visibilitychange", wake); off(); };
}

function scan(body) {
  const preview = h("div", {});
  let cam;
  const check = async (payload) => {
    const p = await api.scanPreview(payload.trim());
    const cur = p.currency || state.currency;
    replace(preview, h("div", { class: "card", "data-testid": "preview" },
      h("h2", {}, `${t("payee")}: ${p.merchant_name}${p.store_name ? " · " + p.store_name : ""}`),
      p.subject && h("p", {}, p.subject),
      form({ "aria-label": t("pay") }, [
        p.enter_amount ? field(t("amount"), { name: "amount", inputmode: "decimal", required: true, autocomplete: "off" }) : h("p", { class: "amount" }, money(p.amount, cur)),
        !p.payable && !p.enter_amount ? h("p", { class: "error" }, t(p.order ? p.order.state : "EXPIRED")) : null,
        h("button", { type: "submit", class: "primary", disabled: !p.payable && !p.enter_amount }, p.enter_amount ? t("pay") : t("pay_now", { amount: money(p.amount, cur) })),
      ], async (v) => {
        const amount = p.enter_amount ? parseMoney(v.amount, cur) : undefined;
        if (p.enter_amount && !amount) throw new api.ApiError("INVALID_AMOUNT", 400);
        const r = await api.walletPay(payload.trim(), amount);
        showPayment(preview, r);
      })));
  };
  const f = form({ "aria-label": t("scan_qr") }, [
    field(t("qr_payload"), { name: "payload", required: true, autocomplete: "off", "data-testid": "qr-input" }),
    h("button", { type: "submit", class: "secondary" }, t("check")),
  ], (v) => check(v.payload || ""));
  cam = scanner(["qr_code"], (payload) => { f.querySelector("input").value = payload; check(payload).catch((e) => toast(errorText(e))); });
  replace(body, h("section", {}, h("h1", {}, t("scan_qr")), h("p", { class: "muted" }, t("scan_help")), cam.el, f, preview));
  return () => cam.stop();
}

function showPayment(box, r) {
  const ok = r.state === "PAID";
  replace(box, h("div", { class: "result" },
    h("div", { class: `banner ${ok ? "ok" : r.state === "PAYING" ? "wait" : "bad"}`, role: "status", "data-testid": "payment-state", "data-state": r.state }, ok ? t("confirmed") : t(r.state)),
    h("p", { class: "amount" }, money(r.amount, r.currency)),
    h("p", { class: "muted" }, `${r.merchant_name || ""} ${r.store_name || ""}`),
    h("a", { href: "#/wallet/home", class: "button secondary" }, t("home"))));
}

function history(body) {
  const ul = h("ul", { class: "list" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, t("load_more"));
  let cursor = null;
  const load = async (reset) => {
    if (reset) { cursor = null; ul.replaceChildren(); }
    try {
      const p = await api.walletTransactions({ cursor, limit: 20 });
      const xs = api.items(p, "transactions");
      if (reset && !xs.length) ul.append(h("li", { class: "muted" }, t("none")));
      for (const x of xs) ul.append(h("li", { class: "order" },
        h("div", { class: "row" }, h("strong", {}, x.memo || x.kind), h("span", { class: x.cash < 0 ? "neg" : "pos" }, money(x.cash || x.coupon, state.currency))),
        h("div", { class: "muted" }, when(x.created_at))));
      cursor = api.nextCursor(p);
      more.hidden = !cursor;
    } catch (e) { ul.append(h("li", {}, errorBox(e, () => load(true)))); }
  };
  more.onclick = () => load(false);
  load(true);
  replace(body, h("h1", {}, t("history")), ul, more);
  return onLive((ev) => { if (ev.type.startsWith("payment.") || ev.type.startsWith("refund.")) load(true); }, () => load(true));
}

// askConfirmation shows a payment waiting for the customer (pushed as
// payment.paying) over whatever screen is open.
const asked = new Set();
export function askConfirmation(ev) {
  const o = ev.data || {};
  const id = ev.order_id || o.order_id || o.id;
  if (!id || asked.has(id) || (o.state && o.state !== "PAYING")) return;
  asked.add(id);
  const cur = o.currency || state.currency;
  const err = h("p", { class: "error", role: "alert" });
  const d = h("dialog", { class: "dialog", "aria-labelledby": "confirm-title", "data-testid": "confirm-payment" },
    h("h2", { id: "confirm-title" }, t("confirm_title")),
    h("p", { class: "amount" }, money(o.amount, cur)),
    h("p", { class: "muted" }, [o.merchant_name, o.store_name, o.subject].filter(Boolean).join(" · ")),
    err,
    h("div", { class: "row" },
      h("button", { type: "button", class: "secondary", onclick: () => act(api.declinePayment) }, t("decline")),
      h("button", { type: "button", class: "primary", onclick: () => act(api.confirmPayment) }, t("confirm"))));
  const act = async (fn) => {
    d.querySelectorAll("button").forEach((b) => (b.disabled = true));
    try {
      const r = await fn(id);
      d.close();
      toast(r.state === "PAID" ? `${t("confirmed")} ${money(r.amount, r.currency)}` : t("declined"));
      go("#/wallet/home", true);
    } catch (e) { err.textContent = errorText(e); d.querySelectorAll("button").forEach((b) => (b.disabled = false)); }
  };
  d.addEventListener("close", () => d.remove());
  document.body.append(d);
  d.showModal();
}

export function walletLogin(main) {
  replace(main, h("section", { class: "login" },
    h("h1", {}, t("wallet_login")),
    form({ "aria-label": t("wallet_login") }, [
      field(t("phone"), { name: "phone", type: "tel", autocomplete: "username", required: true }),
      field(t("password"), { name: "password", type: "password", autocomplete: "current-password", required: true }),
      h("div", { class: "row" },
        h("button", { type: "submit", class: "primary", value: "login" }, t("login")),
        h("button", { type: "submit", class: "secondary", value: "register" }, t("register"))),
    ], async (v, btn) => {
      if (btn && btn.value === "register") await api.walletRegister(v.phone, v.password); else await api.walletLogin(v.phone, v.password);
      go("#/wallet/home");
    }),
    h("a", { href: "#/login", class: "link" }, t("i_am_staff"))));
}
