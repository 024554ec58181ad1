// cashier.js: the cashier's screens — keypad, collection QR, scan code,
// dynamic password, the result, own orders and today's data.
import * as api from "./api.js";
import { t, money, parseMoney, when, errorText, exponent } from "./i18n.js";
import { h, replace, field, form, blobImage, confirmDialog, toast, errorBox } from "./ui.js";
import { scanner } from "./scanner.js";
import { state, go, onLive } from "./app.js";

export const outTradeNo = (p = "A") => p + Date.now().toString(36).toUpperCase() + Math.random().toString(36).slice(2, 6).toUpperCase();

// The amount being typed, kept across the cashier's screens.
let typed = "";

function keypad(display, currency) {
  const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", ".", "0", "⌫"];
  const show = () => { display.textContent = typed ? money(parseMoney(typed, currency) || 0, currency) : money(0, currency); display.dataset.raw = typed; };
  const e = exponent(currency);
  const ok = e > 0 ? new RegExp(`^(0|[1-9]\\d{0,8})(\\.\\d{0,${e}})?$`) : /^[1-9]\d{0,11}$/;
  const press = (k) => {
    if (k === "⌫") typed = typed.slice(0, -1);
    else {
      const next = typed === "" && k === "." ? "0." : typed + k;
      if (!ok.test(next)) return;
      typed = next;
    }
    show();
  };
  show();
  return h("div", { class: "keypad", role: "group", "aria-label": t("amount") },
    keys.map((k) => h("button", { type: "button", class: "key", "aria-label": k === "⌫" ? t("backspace") : k, "data-key": k, onclick: () => press(k) }, k)),
    h("button", { type: "button", class: "key wide secondary", onclick: () => { typed = ""; show(); } }, t("clear")));
}

function amountOrWarn(currency, warn) {
  const a = parseMoney(typed, currency);
  if (!a) { warn.textContent = t("enter_amount_first"); return null; }
  return a;
}

export function cashierHome(main) {
  const cur = state.currency;
  const display = h("output", { class: "amount", "aria-live": "polite", "aria-label": t("amount"), "data-testid": "amount" });
  const warn = h("p", { class: "error", role: "alert" });
  const todayLine = h("p", { class: "muted", "data-testid": "today-line" }, t("loading"));
  api.today().then((s) => { state.currency = s.currency || state.currency; todayLine.textContent = `${t("today")}: ${money(s.net, s.currency)} · ${t("paid_orders")} ${s.paid_orders}`; })
    .catch((e) => { todayLine.textContent = errorText(e); });
  const act = (fn) => async () => {
    warn.textContent = "";
    const a = amountOrWarn(cur, warn);
    if (!a) return;
    try { await fn(a); } catch (e) { warn.textContent = errorText(e); }
  };
  replace(main,
    h("section", { class: "cashier", "aria-label": t("cashier") },
      display, keypad(display, cur), warn,
      h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", onclick: act(async (a) => {
          const r = await api.collectionQR(outTradeNo("Q"), a, "");
          state.qr = r;
          typed = "";
          go(`#/cashier/qr/${r.order.id}`);
        }) }, t("show_qr")),
        h("button", { type: "button", class: "primary", onclick: act(async (a) => { state.pendingAmount = a; go("#/cashier/scan"); }) }, t("scan_code")),
        h("button", { type: "button", class: "secondary", onclick: act(async (a) => { state.pendingAmount = a; go("#/cashier/dynamic"); }) }, t("dyn_password"))),
      todayLine,
      h("a", { href: "#/cashier/orders", class: "link" }, t("my_orders"))));
}

// After a cashier's payment call: the order (PAID or PAYING) or a refusal.
async function settle(promise) {
  try {
    const o = await promise;
    typed = "";
    state.lastOrder = o;
    go(`#/order/${o.id}`);
  } catch (e) {
    if (e.status >= 400 && e.status < 500 && e.status !== 401) {
      state.refusal = { code: e.code, amount: state.pendingAmount };
      go("#/refused");
      return;
    }
    throw e;
  }
}

export function scanScreen(main) {
  const a = state.pendingAmount;
  if (!a) return go("#/cashier");
  const cur = state.currency;
  let f;
  const pay = (code) => settle(api.scanPay(outTradeNo("S"), a, code.replace(/\D/g, "")));
  const cam = scanner(["code_128", "qr_code", "ean_13"], (code) => { f.querySelector("input").value = code; pay(code).catch((e) => toast(errorText(e))); });
  f = form({ "aria-label": t("scan_code") }, [
    field(t("typed_code"), { name: "code", inputmode: "numeric", autocomplete: "off", required: true, "data-testid": "payment-code" }),
    h("button", { type: "submit", class: "primary" }, `${t("collect")} ${money(a, cur)}`),
  ], (v) => pay(v.code || ""));
  replace(main, h("section", {}, h("h1", {}, t("scan_title")), h("p", { class: "amount small" }, money(a, cur)), cam.el, f,
    h("a", { href: "#/cashier", class: "link", onclick: cam.stop }, t("back"))));
  return () => cam.stop();
}

export function dynamicScreen(main) {
  const a = state.pendingAmount;
  if (!a) return go("#/cashier");
  replace(main, h("section", {}, h("h1", {}, t("dyn_password")), h("p", { class: "amount small" }, money(a, state.currency)),
    form({ "aria-label": t("dyn_password") }, [
      field(t("customer_phone"), { name: "phone", type: "tel", autocomplete: "off", required: true }),
      field(t("customer_password"), { name: "password", inputmode: "numeric", autocomplete: "off", required: true }),
      h("button", { type: "submit", class: "primary" }, `${t("collect")} ${money(a, state.currency)}`),
    ], (v) => settle(api.dynamicPasswordPay(outTradeNo("D"), a, v.phone, v.password))),
    h("a", { href: "#/cashier", class: "link" }, t("back"))));
}

export function qrScreen(main, id) {
  const r = state.qr && String(state.qr.order.id) === id ? state.qr : null;
  const status = h("p", { class: "status big", role: "status", "aria-live": "polite", "data-testid": "order-state" }, t("waiting_payer"));
  const box = h("section", { class: "qrbox" });
  const show = (o) => {
    if (o.state === "PAID" || o.state === "PAYING" || o.state === "CLOSED") { state.lastOrder = o; go(`#/order/${o.id}`, true); return true; }
    return false;
  };
  const refresh = () => api.order(id).then(show).catch(() => {});
  replace(main, box);
  const render = (o, payload) => replace(box,
    h("h1", {}, t("qr_title")), h("p", { class: "amount" }, money(o.amount, o.currency)),
    blobImage(() => api.orderQR(id), t("show_qr")),
    payload && h("p", { class: "payload" }, h("code", { "data-testid": "qr-payload" }, payload)),
    status,
    h("p", { class: "muted" }, `${t("expires")} ${when(o.expires_at)}`),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: async () => {
        if (!(await confirmDialog(t("close_order")))) return;
        try { const c = await api.closeOrder(id); show(c); } catch (e) { toast(errorText(e)); }
      } }, t("close_order")),
      h("a", { href: "#/cashier", class: "link" }, t("new_sale"))));
  if (r) render(r.order, r.qr_payload);
  else api.order(id).then((o) => { if (!show(o)) render(o, o.pay_url); }).catch((e) => replace(box, errorBox(e, () => qrScreen(main, id))));
  // Live: the order turns PAID on the websocket; after a reconnect (or a
  // resync) the order is read again, so nothing that happened meanwhile is missed.
  return onLive((ev) => {
    // The event carries the order as it is now (its id as order_id).
    if (String(ev.order_id) === id && ev.type.startsWith("payment.")) {
      if (ev.data && ev.data.state) show({ ...(r ? r.order : {}), ...ev.data, id: ev.order_id }); else refresh();
    }
  }, refresh);
}

function funding(f, cur) {
  if (!f) return null;
  const rows = [["voucher", f.voucher], ["coupon", f.coupon], ["cash", f.cash], ["card", f.card]].filter(([, v]) => v);
  return h("dl", { class: "funding", "aria-label": t("funding") }, rows.map(([k, v]) => [h("dt", {}, t(k)), h("dd", {}, money(v, cur))]));
}

export function orderScreen(main, id) {
  const box = h("section", { class: "result" });
  replace(main, box);
  const render = (o) => {
    const cls = o.state === "PAID" ? "ok" : o.state === "PAYING" ? "wait" : o.state === "CLOSED" ? "bad" : "";
    const title = o.state === "PAID" ? t("paid") : o.state === "PAYING" ? t("waiting") : o.state === "CLOSED" ? t("closed") : t(o.state);
    replace(box,
      h("div", { class: `banner ${cls}`, role: "status", "aria-live": "polite", "data-testid": "order-state", "data-state": o.state }, title),
      h("p", { class: "amount" }, money(o.amount, o.currency)),
      o.state === "PAID" && [h("h2", {}, t("funding")), funding(o.funding, o.currency)],
      o.close_reason && h("p", { class: "muted" }, `${t("reason")}: ${o.close_reason}`),
      h("p", { class: "muted" }, `${t("order_no")} ${o.out_trade_no} · ${t(o.method)}`),
      (o.state === "CREATED" || o.state === "PAYING") && h("button", { type: "button", class: "secondary", onclick: async () => {
        if (!(await confirmDialog(t("close_order")))) return;
        try { render(await api.closeOrder(o.id)); } catch (e) { toast(errorText(e)); }
      } }, t("close_order")),
      h("a", { href: "#/cashier", class: "button primary" }, t("new_sale")));
  };
  const load = () => api.order(id).then(render).catch((e) => replace(box, errorBox(e, load)));
  // What the last screen knew is shown at once, then the server's full order.
  if (state.lastOrder && String(state.lastOrder.id) === id) render(state.lastOrder);
  load();
  return onLive((ev) => { if (String(ev.order_id) === id) load(); }, load);
}

export function refusedScreen(main) {
  const r = state.refusal || { code: "INTERNAL" };
  replace(main, h("section", { class: "result" },
    h("div", { class: "banner bad", role: "alert", "data-testid": "order-state", "data-state": "REFUSED" }, t("refused")),
    r.amount && h("p", { class: "amount" }, money(r.amount, state.currency)),
    h("p", { class: "reason", "data-testid": "refusal" }, errorText(r)),
    h("a", { href: "#/cashier", class: "button primary" }, t("new_sale"))));
}

// orderRow is one order in a list, with what the viewer may do to it.
export function orderRow(o, actions) {
  return h("li", { class: "order", "data-order": o.id },
    h("div", { class: "row" }, h("strong", {}, money(o.amount, o.currency)), h("span", { class: `pill s-${o.state}` }, t(o.state))),
    h("div", { class: "muted" }, `${when(o.created_at)} · ${t(o.method)} · ${o.out_trade_no}`),
    o.refunded ? h("div", { class: "muted" }, `${t("refunded")} ${money(o.refunded, o.currency)}`) : null,
    actions && actions.length ? h("div", { class: "row actions" }, actions) : null);
}

export function statsCard(s) {
  return h("div", { class: "card stats", "data-testid": "today" },
    h("h2", {}, `${t("today")} · ${s.date || ""}`),
    h("dl", {}, [["gross", money(s.gross, s.currency)], ["refunded", money(s.refunded, s.currency)], ["net", money(s.net, s.currency)],
      ["paid_orders", s.paid_orders], ["refunds", s.refunds]].map(([k, v]) => [h("dt", {}, t(k)), h("dd", {}, v)])));
}

// orderList shows pages of GET /v1/orders with filters; actions(o) gives the buttons.
export function orderList(filters, actions) {
  const ul = h("ul", { class: "list", "aria-label": t("orders") });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, t("load_more"));
  let cursor = null;
  const load = async (reset) => {
    if (reset) { cursor = null; ul.replaceChildren(); }
    try {
      const page = await api.orders({ ...filters(), cursor, limit: 20 });
      const list = api.items(page, "orders");
      if (reset && !list.length) ul.append(h("li", { class: "muted" }, t("no_orders")));
      for (const o of list) ul.append(orderRow(o, actions ? actions(o, () => load(true)) : []));
      cursor = api.nextCursor(page);
      more.hidden = !cursor;
    } catch (e) { ul.append(h("li", {}, errorBox(e, () => load(true)))); }
  };
  more.onclick = () => load(false);
  load(true);
  return { el: h("div", {}, ul, more), reload: () => load(true) };
}

export function cashierOrders(main) {
  const statsBox = h("div", {}, t("loading"));
  api.today().then((s) => replace(statsBox, statsCard(s))).catch((e) => replace(statsBox, errorBox(e)));
  const list = orderList(() => ({}), (o, reload) => (o.state === "CREATED" || o.state === "PAYING")
    ? [h("button", { type: "button", class: "secondary small", onclick: async () => {
      if (!(await confirmDialog(t("close_order"), money(o.amount, o.currency)))) return;
      try { await api.closeOrder(o.id); reload(); } catch (e) { toast(errorText(e)); }
    } }, t("close_order"))] : []);
  replace(main, h("section", {}, h("h1", {}, t("my_orders")), statsBox, list.el, h("a", { href: "#/cashier", class: "link" }, t("back"))));
  return onLive((ev) => { if (ev.type.startsWith("payment.") || ev.type.startsWith("refund.")) list.reload(); }, () => list.reload());
}
