// merchant.js: the manager's and the owner's screens. A manager sees the
// store; an owner everything of the merchant (the API scopes each list).
import * as api from "./api.js";
import { t, money, parseMoney, when, errorText, toDecimal } from "./i18n.js";
import { h, replace, field, form, blobImage, confirmDialog, toast, errorBox, tabs, barChart } from "./ui.js";
import { state, onLive } from "./app.js";
import { orderList, statsCard, outTradeNo } from "./cashier.js";

const managerTabs = () => [["overview", t("overview")], ["orders", t("orders")], ["cashiers", t("cashiers")], ["links", t("links")]];
const ownerTabs = () => [["balance", t("balance")], ["overview", t("overview")], ["orders", t("orders")], ["stores", t("stores")],
  ["staff", t("team")], ["links", t("links")], ["members", t("members")], ["tickets", t("tickets")], ["bank", t("bank_account")]];

export function managerScreen(main, tab) {
  return merchantScreen(main, "manager", tab || "overview", managerTabs());
}
export function ownerScreen(main, tab) {
  return merchantScreen(main, "owner", tab || "balance", ownerTabs());
}

const screens = { overview, orders, cashiers: staffTab, staff: staffTab, links, balance: balanceTab, stores: storesTab, members: membersTab, tickets: ticketsTab, bank: bankTab };

function merchantScreen(main, base, tab, list) {
  const body = h("div", { class: "tabbody" });
  replace(main, tabs(list, tab, base), body);
  const fn = screens[tab] || overview;
  return fn(body, base);
}

function overview(body) {
  const top = h("div", {}, t("loading")), chart = h("div", { class: "card" }, h("h2", {}, t("last30")), t("loading"));
  const load = () => {
    api.today().then((s) => { state.currency = s.currency; replace(top, statsCard(s)); }).catch((e) => replace(top, errorBox(e, load)));
    api.daily(30).then((d) => replace(chart, h("h2", {}, t("last30")),
      barChart(d.days || [], (x) => x.net, `${t("last30")}: ${t("net")}`, (v) => money(v, d.currency)),
      h("p", { class: "muted" }, `${t("net")} ${money((d.days || []).reduce((a, x) => a + x.net, 0), d.currency)} · ${d.time_zone}`)))
      .catch((e) => replace(chart, errorBox(e, load)));
  };
  load();
  replace(body, top, chart);
  return onLive((ev) => { if (ev.type === "payment.paid" || ev.type === "refund.succeeded") load(); }, load);
}

function orders(body) {
  const f = h("form", { class: "filters", "aria-label": t("filter") },
    field(t("state"), { name: "state", options: [["", t("all")], ...["PAID", "CREATED", "PAYING", "CLOSED", "PARTIALLY_REFUNDED", "REFUNDED", "REVOKED"].map((s) => [s, t(s)])] }),
    field(t("method"), { name: "method", options: [["", t("all")], ...["scan", "qr", "dynamic_password", "store_qr", "link", "installment"].map((m) => [m, t(m)])] }),
    field(t("from"), { name: "from", type: "date" }), field(t("to"), { name: "to", type: "date" }));
  const filters = () => Object.fromEntries(new FormData(f));
  const list = orderList(filters, (o, reload) => {
    const out = [];
    if (["PAID", "PARTIALLY_REFUNDED"].includes(o.state)) {
      out.push(h("button", { type: "button", class: "secondary small", onclick: () => refundDialog(o, reload) }, t("refund")));
      out.push(h("button", { type: "button", class: "secondary small", onclick: async () => {
        if (!(await confirmDialog(t("void"), money(o.amount, o.currency)))) return;
        try { await api.voidOrder(o.id); toast(t("REVOKED")); reload(); } catch (e) { toast(errorText(e)); }
      } }, t("void")));
    }
    return out;
  });
  f.addEventListener("change", () => list.reload());
  replace(body, f, list.el);
  return onLive((ev) => { if (ev.type.startsWith("payment.") || ev.type.startsWith("refund.")) list.reload(); }, () => list.reload());
}

function refundDialog(o, done) {
  const left = o.amount - (o.refunded || 0);
  const d = h("dialog", { class: "dialog", "aria-label": t("refund") });
  const f = form({}, [
    h("h2", {}, `${t("refund")} · ${money(o.amount, o.currency)}`),
    field(t("refund_amount"), { name: "amount", inputmode: "decimal", value: toDecimal(left, o.currency), required: true }),
    field(t("reason"), { name: "reason", maxlength: 100 }),
    h("div", { class: "row" }, h("button", { type: "button", class: "secondary", onclick: () => d.close() }, t("cancel")),
      h("button", { type: "submit", class: "primary" }, t("refund"))),
  ], async (v) => {
    const a = parseMoney(v.amount, o.currency);
    if (!a) throw new api.ApiError("INVALID_AMOUNT", 400);
    await api.refund(o.id, outTradeNo("R"), a, v.reason || "");
    d.close(); toast(t("refunded")); done();
  });
  d.append(f);
  d.addEventListener("close", () => d.remove());
  document.body.append(d);
  d.showModal();
}

function staffTab(body, base) {
  const ul = h("ul", { class: "list", "aria-label": t("team") });
  const me = state.session.staff || {};
  const storeOptions = () => (state.stores || []).map((s) => [String(s.id), s.name || "#" + s.id]);
  const load = async () => {
    try {
      const list = await api.staffList();
      ul.replaceChildren();
      for (const s of list) {
        if (base === "manager" && s.role !== "cashier") continue;
        ul.append(h("li", { class: "order", "data-staff": s.phone },
          h("div", { class: "row" }, h("strong", {}, s.name), h("span", { class: `pill ${s.status}` }, t(s.status))),
          h("div", { class: "muted" }, `${s.phone} · ${t(s.role)} · ${t("store")} ${storeName(s.store_id)}`),
          s.id !== me.id && h("div", { class: "row actions" },
            s.status === "active"
              ? h("button", { type: "button", class: "secondary small", onclick: async () => {
                if (!(await confirmDialog(`${t("disable")} ${s.name}?`))) return;
                try { await api.disableStaff(s.id); load(); } catch (e) { toast(errorText(e)); }
              } }, t("disable"))
              : h("button", { type: "button", class: "secondary small", onclick: async () => { try { await api.enableStaff(s.id); load(); } catch (e) { toast(errorText(e)); } } }, t("enable")),
            h("button", { type: "button", class: "secondary small", onclick: () => resetDialog(s) }, t("reset_password")))));
      }
    } catch (e) { replace(ul, errorBox(e, load)); }
  };
  const add = form({ class: "card", "aria-label": t("add_cashier") }, [
    h("h2", {}, t("add_cashier")),
    field(t("name"), { name: "name", required: true, autocomplete: "off" }),
    field(t("phone"), { name: "phone", type: "tel", required: true, autocomplete: "off" }),
    field(t("password"), { name: "password", type: "password", required: true, autocomplete: "new-password", minlength: 8 }),
    base === "owner" && field(t("role"), { name: "role", options: [["cashier", t("cashier")], ["manager", t("manager")]] }),
    base === "owner" && (state.stores || []).length > 1 && field(t("store"), { name: "store_id", options: storeOptions() }),
    h("button", { type: "submit", class: "primary" }, t("add_cashier")),
  ], async (v, btn) => {
    const storeID = v.store_id ? Number(v.store_id) : me.store_id || (state.stores && state.stores[0] && state.stores[0].id);
    await api.addStaff({ name: v.name, phone: v.phone, password: v.password, role: v.role || "cashier", store_id: storeID });
    add.reset(); toast(t("added")); load();
  });
  load();
  replace(body, add, ul);
  return onLive((ev) => { if (ev.type === "staff.disabled") load(); });
}

function resetDialog(s) {
  const d = h("dialog", { class: "dialog", "aria-label": t("reset_password") });
  d.append(form({}, [
    h("h2", {}, `${t("reset_password")} · ${s.name}`),
    field(t("new_password"), { name: "password", type: "password", required: true, autocomplete: "new-password" }),
    h("div", { class: "row" }, h("button", { type: "button", class: "secondary", onclick: () => d.close() }, t("cancel")), h("button", { type: "submit", class: "primary" }, t("save"))),
  ], async (v) => { await api.resetPassword(s.id, v.password); d.close(); toast(t("save") + " ✓"); }));
  d.addEventListener("close", () => d.remove());
  document.body.append(d);
  d.showModal();
}

function storeName(id) {
  const s = (state.stores || []).find((x) => x.id === id);
  return s && s.name ? s.name : "#" + id;
}

// loadStores reads GET /v1/stores when the server has it, and otherwise
// derives the store ids from the staff list (and the caller's own store).
export async function loadStores() {
  const r = await api.stores().catch(() => null);
  if (r) { state.stores = api.items(r, "stores"); state.storesDerived = false; return; }
  const ids = new Set();
  const me = state.session.staff || {};
  if (me.store_id) ids.add(me.store_id);
  if (me.role !== "cashier") try { for (const s of await api.staffList()) if (s.store_id) ids.add(s.store_id); } catch { /* a cashier may not list staff */ }
  state.stores = [...ids].sort((a, b) => a - b).map((id) => ({ id }));
  state.storesDerived = true;
}

function links(body) {
  const out = h("div", {});
  const f = form({ class: "card", "aria-label": t("links") }, [
    h("h2", {}, t("create_link")),
    field(t("amount"), { name: "amount", inputmode: "decimal", required: true, autocomplete: "off" }),
    field(t("subject"), { name: "subject", maxlength: 64 }),
    h("button", { type: "submit", class: "primary" }, t("create_link")),
  ], async (v) => {
    const a = parseMoney(v.amount, state.currency);
    if (!a) throw new api.ApiError("INVALID_AMOUNT", 400);
    const r = await api.paymentLink(outTradeNo("L"), a, v.subject || "");
    const url = r.url || r.order.pay_url;
    replace(out, h("div", { class: "card" },
      h("p", { class: "amount small" }, money(r.order.amount, r.order.currency)), r.order.subject && h("p", {}, r.order.subject),
      blobImage(() => api.orderQR(r.order.id), t("link")),
      h("p", { class: "payload" }, h("code", { "data-testid": "link-url" }, url)),
      h("div", { class: "row" },
        h("button", { type: "button", class: "secondary", onclick: async () => { try { await navigator.clipboard.writeText(url); toast(t("copied")); } catch { toast(url); } } }, t("copy")),
        navigator.share && h("button", { type: "button", class: "secondary", onclick: () => navigator.share({ title: r.order.subject || t("link"), url }).catch(() => {}) }, t("share")))));
  });
  replace(body, f, out);
}

function balanceTab(body) {
  const bal = h("div", { class: "card", "aria-live": "polite" }, t("loading"));
  const over = h("div", {});
  const wd = h("div", {});
  const stl = h("div", { class: "card" });
  let current = null, account = null;
  const load = async () => {
    try {
      const [b, acct] = await Promise.all([api.balance(), api.bankAccount().catch(() => null)]);
      current = b; account = acct; state.currency = b.currency;
      replace(bal, h("h2", {}, t("balance")),
        h("dl", { class: "balances", "data-testid": "balance" }, ["available", "pending", "frozen", "book"].map((k) => [h("dt", {}, t(k)), h("dd", { "data-k": k }, money(b[k], b.currency))])),
        h("button", { type: "button", class: "primary", "data-testid": "withdraw", disabled: b.available <= 0, onclick: withdrawAll }, t("withdraw_all")),
        !acct && h("p", { class: "muted" }, t("not_bound")));
      const ov = await api.balanceOverview().catch(() => null);
      if (ov) replace(over, h("div", { class: "card" }, h("h2", {}, t("upcoming")), h("pre", {}, JSON.stringify(ov, null, 1))));
      const w = await api.withdrawals({ limit: 10 });
      replace(wd, h("div", { class: "card" }, h("h2", {}, t("withdrawals")), h("ul", { class: "list", "data-testid": "withdrawals" },
        api.items(w).map((x) => h("li", { class: "order" }, h("div", { class: "row" }, h("strong", {}, money(x.amount, x.currency)), h("span", { class: `pill s-${x.state}` }, t(x.state))),
          h("div", { class: "muted" }, `${when(x.created_at)}${x.reason ? " · " + x.reason : ""}`))), api.items(w).length ? null : h("li", { class: "muted" }, t("none")))));
      const s = await api.settlements({ limit: 14 });
      replace(stl, h("h2", {}, t("settlements")), h("ul", { class: "list" },
        api.items(s).map((x) => h("li", { class: "order" },
          h("div", { class: "row" }, h("strong", {}, `${x.business_day} · ${money(x.amount, x.currency)}`), h("span", { class: `pill s-${x.state}` }, t(x.state))),
          h("ol", { class: "progress", "aria-label": t(x.state) }, ["NOT_DUE", "AWAITING_PAYMENT", "SUBMITTED", "PAID"].map((st) => h("li", { class: stepClass(x.state, st) }, t(st)))),
          x.reason && h("div", { class: "error" }, x.reason))), api.items(s).length ? null : h("li", { class: "muted" }, t("none"))));
    } catch (e) { replace(bal, errorBox(e, load)); }
  };
  const withdrawAll = async () => {
    if (!current || current.available <= 0) return;
    const amt = money(current.available, current.currency);
    const to = account ? `${account.bank_name || ""} ${account.number}` : t("bank_account");
    if (!(await confirmDialog(t("withdraw"), t("withdraw_confirm", { amount: amt, account: to }), t("withdraw")))) return;
    try { await api.withdraw(outTradeNo("W"), current.available); toast(t("withdraw_done")); load(); } catch (e) { toast(errorText(e)); }
  };
  load();
  replace(body, bal, over, wd, stl);
  return onLive((ev) => { if (["withdrawal.updated", "settlement.updated", "payment.paid", "refund.succeeded"].includes(ev.type)) load(); }, load);
}

function stepClass(state, step) {
  const order = ["NOT_DUE", "AWAITING_PAYMENT", "SUBMITTED", "PAID"];
  if (state === "FAILED") return step === "SUBMITTED" ? "failed" : order.indexOf(step) < 2 ? "done" : "";
  const i = order.indexOf(state), j = order.indexOf(step);
  return j < i || state === "PAID" ? "done" : j === i ? "now" : "";
}

function storesTab(body) {
  const list = h("ul", { class: "list" });
  const render = () => replace(list, (state.stores || []).map((s) => h("li", { class: "order" },
    h("strong", {}, s.name || `${t("store")} #${s.id}`),
    h("details", {}, h("summary", {}, t("show_qr")), blobImage(() => api.storeQR(s.id), `${t("store")} ${s.id}`)))));
  loadStores().then(render);
  replace(body, state.storesDerived ? h("p", { class: "muted" }, t("stores_unavailable")) : null, list,
    form({ class: "card" }, [field(t("name"), { name: "name", required: true }), h("button", { type: "submit", class: "secondary" }, t("add_store"))],
      async (v) => { await api.addStore(v.name); await loadStores(); render(); }));
}

function membersTab(body) {
  const ul = h("ul", { class: "list" });
  api.members({ limit: 50 }).then((p) => replace(ul, api.items(p).map((m) => h("li", { class: "order" },
    h("div", { class: "row" }, h("strong", {}, m.phone), h("span", {}, money(m.total_spent, state.currency))),
    h("div", { class: "muted" }, `${t("visits")} ${m.visits} · ${when(m.last_visit_at)}`))), api.items(p).length ? null : h("li", { class: "muted" }, t("none"))))
    .catch((e) => replace(ul, errorBox(e)));
  replace(body, h("h2", {}, t("members")), ul);
}

function ticketsTab(body) {
  const ul = h("ul", { class: "list" });
  api.tickets({ limit: 50 }).then((p) => replace(ul, api.items(p).map((x) => h("li", { class: "order" },
    h("div", { class: "row" }, h("strong", {}, x.product), h("span", { class: `pill s-${x.state}` }, t(x.state))),
    h("div", { class: "muted" }, `${money(x.price, x.currency)} · ${when(x.expires_at)}`))), api.items(p).length ? null : h("li", { class: "muted" }, t("none"))))
    .catch((e) => replace(ul, errorBox(e)));
  replace(body, h("h2", {}, t("tickets")), ul);
}

function bankTab(body) {
  const cur = h("div", { class: "card" }, t("loading"));
  const load = () => api.bankAccount().then((a) => replace(cur, h("h2", {}, t("bank_account")), h("p", { "data-testid": "bank-account" }, `${a.bank_name || ""} ${a.number} · ${a.holder}`)))
    .catch((e) => replace(cur, h("h2", {}, t("bank_account")), h("p", { class: "muted" }, e.code === "BANK_ACCOUNT_NOT_BOUND" || e.status === 404 ? t("not_bound") : errorText(e))));
  const bind = form({ class: "card", "aria-label": t("bind") }, [
    field(t("bank_number"), { name: "number", inputmode: "numeric", required: true, autocomplete: "off" }),
    field(t("holder"), { name: "holder", required: true }),
    field(t("bank_name"), { name: "bank_name" }),
    field(t("your_password"), { name: "password", type: "password", required: true, autocomplete: "current-password" }),
    h("button", { type: "submit", class: "primary" }, t("bind")),
  ], async (v) => { await api.bindBankAccount(v); bind.reset(); toast(t("save") + " ✓"); load(); });
  const today = new Date().toISOString().slice(0, 10), monthAgo = new Date(Date.now() - 30 * 864e5).toISOString().slice(0, 10);
  const stmt = form({ class: "card", "aria-label": t("statement") }, [
    h("h2", {}, t("statement")),
    field(t("from"), { name: "from", type: "date", value: monthAgo }), field(t("to"), { name: "to", type: "date", value: today }),
    h("button", { type: "submit", class: "secondary" }, t("download")),
  ], async (v) => {
    const blob = await api.statement(v.from, v.to);
    const a = h("a", { href: URL.createObjectURL(blob), download: `statement-${v.from}-${v.to}.csv` });
    document.body.append(a); a.click(); a.remove();
  });
  load();
  replace(body, cur, bind, stmt);
}
