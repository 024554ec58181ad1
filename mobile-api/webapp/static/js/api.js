// api.js: every call the app makes to paydesk goes through here — the
// public /v1 API and the /v1/ws websocket, nothing else. It keeps the
// token pair (staff or wallet) in localStorage, refreshes an expired access
// token once and retries without logging the user out, sends an
// Idempotency-Key with every money-moving POST (the same key when a
// request is retried), and turns every failure into an ApiError whose
// code the screens translate into plain words.

const STORE_KEY = "paydesk.session";

export class ApiError extends Error {
  constructor(code, status, message, retryAfter) {
    super(message || code);
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter || 0;
  }
}

// A session is {kind: "staff"|"wallet", access, refresh, staff?, wallet?}.
export function session() {
  try { return JSON.parse(localStorage.getItem(STORE_KEY) || "null"); } catch { return null; }
}
function saveSession(s) {
  if (s) localStorage.setItem(STORE_KEY, JSON.stringify(s)); else localStorage.removeItem(STORE_KEY);
}
const listeners = new Set();
export function onSessionEnd(fn) { listeners.add(fn); }
function endSession(reason) {
  saveSession(null);
  for (const fn of listeners) fn(reason);
}

export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// items reads a list answer in either shape: {"items":[...]} (the common
// one) or an older named array such as {"staff":[...]}.
export function items(body, name) {
  if (!body) return [];
  if (Array.isArray(body)) return body;
  if (Array.isArray(body.items)) return body.items;
  if (name && Array.isArray(body[name])) return body[name];
  return [];
}
export function nextCursor(body) {
  return body && body.next_cursor != null && body.next_cursor !== "" ? body.next_cursor : null;
}

let refreshing = null;
async function refreshTokens() {
  const s = session();
  if (!s || !s.refresh) throw new ApiError("UNAUTHORIZED", 401);
  if (!refreshing) {
    refreshing = (async () => {
      const r = await raw("POST", "/v1/auth/refresh", { refresh_token: s.refresh });
      const cur = session();
      if (cur) saveSession({ ...cur, access: r.access_token, refresh: r.refresh_token });
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}
export { refreshTokens };

async function raw(method, path, body, headers = {}, as = "json") {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: body !== undefined ? { "Content-Type": "application/json", ...headers } : headers,
      body: body !== undefined ? JSON.stringify(body) : undefined,
      credentials: "omit",
      cache: "no-store",
    });
  } catch (e) {
    throw new ApiError("NETWORK", 0, String(e));
  }
  if (res.ok) {
    if (res.status === 204) return null;
    if (as === "blob") return res.blob();
    if (as === "text") return res.text();
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }
  let code = "HTTP_" + res.status, message = "";
  try {
    const e = (await res.json()).error;
    if (e && e.code) { code = e.code; message = e.message; }
  } catch { /* not the JSON envelope */ }
  throw new ApiError(code, res.status, message, Number(res.headers.get("Retry-After")) || 0);
}

// call sends an authenticated request. On 401 TOKEN_EXPIRED it refreshes
// once and retries; a network failure or 503 of a keyed request is retried
// once with the same Idempotency-Key, so a payment is never made twice.
export async function call(method, path, body, { idem = false, as = "json" } = {}) {
  const key = idem ? newKey() : null;
  let refreshed = false, retried = false;
  for (;;) {
    const s = session();
    const headers = {};
    if (s && s.access) headers.Authorization = "Bearer " + s.access;
    if (key) headers["Idempotency-Key"] = key;
    try {
      return await raw(method, path, body, headers, as);
    } catch (e) {
      if (e.status === 401 && e.code === "TOKEN_EXPIRED" && !refreshed && s && s.refresh) {
        refreshed = true;
        try { await refreshTokens(); } catch (re) { endSession(re.code); throw re; }
        continue;
      }
      if (e.status === 401 && ["UNAUTHORIZED", "TOKEN_INVALID", "STAFF_DISABLED", "SESSION_ENDED", "REFRESH_TOKEN_INVALID", "REFRESH_TOKEN_REUSED"].includes(e.code)) {
        endSession(e.code);
      }
      if (key && !retried && (e.code === "NETWORK" || e.code === "IDEMPOTENCY_IN_PROGRESS" || e.status === 503)) {
        retried = true;
        await new Promise((r) => setTimeout(r, Math.min(5, e.retryAfter || 1) * 1000));
        continue;
      }
      throw e;
    }
  }
}

const get = (p) => call("GET", p);
const post = (p, b, idem = false) => call("POST", p, b === undefined ? {} : b, { idem });
const q = (params) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") u.set(k, v);
  const s = u.toString();
  return s ? "?" + s : "";
};

// A route that this server does not have yet answers 404 NOT_FOUND (or
// 405); optional() turns that into null so a screen can degrade.
export async function optional(p) {
  try { return await p; } catch (e) {
    if (e.status === 404 || e.status === 405) return null;
    throw e;
  }
}

// ---- staff ----
export async function staffLogin(phone, password) {
  const r = await raw("POST", "/v1/auth/login", { phone, password });
  saveSession({ kind: "staff", access: r.access_token, refresh: r.refresh_token, staff: r.staff });
  return r.staff;
}
export async function logout() {
  const s = session();
  if (s && s.refresh) {
    try { await call("POST", s.kind === "wallet" ? "/v1/wallet/logout" : "/v1/auth/logout", { refresh_token: s.refresh }); } catch { /* gone anyway */ }
  }
  endSession("LOGGED_OUT");
}
export const me = () => optional(get("/v1/me"));
export const changeMyPassword = (current, password) => post("/v1/me/password", { current_password: current, password });
export const stores = () => optional(get("/v1/stores"));
export const addStore = (name) => post("/v1/stores", { name });
export const staffList = async () => items(await get("/v1/staff"), "staff");
export const addStaff = (s) => post("/v1/staff", s);
export const disableStaff = (id) => post(`/v1/staff/${id}/disable`);
export const enableStaff = (id) => post(`/v1/staff/${id}/enable`);
export const resetPassword = (id, password) => post(`/v1/staff/${id}/reset-password`, { password });

export const scanPay = (out_trade_no, amount, payment_code) => post("/v1/payments/scan", { out_trade_no, amount, payment_code }, true);
export const collectionQR = (out_trade_no, amount, subject) => post("/v1/payments/qr", { out_trade_no, amount, subject }, true);
export const dynamicPasswordPay = (out_trade_no, amount, phone, password) => post("/v1/payments/dynamic-password", { out_trade_no, amount, phone, password }, true);
export const paymentLink = (out_trade_no, amount, subject) => post("/v1/payment-links", { out_trade_no, amount, subject }, true);
export const order = (id) => get(`/v1/orders/${id}`);
export const orderQR = (id) => call("GET", `/v1/orders/${id}/qr.png?size=320`, undefined, { as: "blob" });
export const storeQR = (id) => call("GET", `/v1/stores/${id}/qr.png?size=320`, undefined, { as: "blob" });
export const closeOrder = (id) => post(`/v1/orders/${id}/close`, {}, true);
export const orders = (f) => get("/v1/orders" + q(f));
export const voidOrder = (id) => post(`/v1/orders/${id}/void`, {}, true);
export const refund = (id, refund_no, amount, reason) => post(`/v1/orders/${id}/refunds`, { refund_no, amount, reason }, true);
export const refunds = async (id) => items(await get(`/v1/orders/${id}/refunds`));
export const today = () => get("/v1/stats/today");
export const daily = (days) => get("/v1/stats/daily" + q({ days }));
export const members = (f) => get("/v1/members" + q(f));
export const tickets = (f) => get("/v1/tickets" + q(f));

export const balance = () => get("/v1/balance");
export const balanceOverview = () => optional(get("/v1/balance/overview"));
export const settlements = (f) => get("/v1/settlements" + q(f));
export const withdrawals = (f) => get("/v1/withdrawals" + q(f));
export const withdraw = (request_no, amount) => post("/v1/withdrawals", { request_no, amount }, true);
export const bankAccount = () => get("/v1/bank-account");
export const bindBankAccount = (b) => call("PUT", "/v1/bank-account", b);
export const statement = (from, to) => call("GET", "/v1/statements.csv" + q({ from, to }), undefined, { as: "blob" });

// ---- wallet ----
async function walletSession(path, phone, password) {
  const r = await raw("POST", path, { phone, password });
  saveSession({ kind: "wallet", access: r.access_token, refresh: r.refresh_token, wallet: r.wallet });
  return r.wallet;
}
export const walletLogin = (phone, password) => walletSession("/v1/wallet/login", phone, password);
export const walletRegister = (phone, password) => walletSession("/v1/wallet/register", phone, password);
export const wallet = () => get("/v1/wallet");
export const walletTransactions = (f) => get("/v1/wallet/transactions" + q(f));
export const paymentCode = () => get("/v1/wallet/payment-code");
export const paymentCodePicture = (kind) => call("GET", `/v1/wallet/payment-code/${kind}.png`, undefined, { as: "blob" });
export const dynamicPassword = () => get("/v1/wallet/dynamic-password");
export const bindCard = (c) => post("/v1/wallet/cards", c);
export const topUp = (request_no, amount) => post("/v1/wallet/topups", { request_no, amount }, true);
export const scanPreview = (qr_payload) => post("/v1/wallet/scan", { qr_payload });
export const walletPay = (qr_payload, amount) => post("/v1/wallet/pay", amount ? { qr_payload, amount } : { qr_payload }, true);
export const confirmPayment = (id) => post(`/v1/wallet/payments/${id}/confirm`, {}, true);
export const declinePayment = (id) => post(`/v1/wallet/payments/${id}/decline`, {}, true);
export const walletTickets = async () => items(await get("/v1/wallet/tickets"));

// ---- websocket ----
// Live connects to /v1/ws with the token as a subprotocol and resumes from
// the last seq it saw (kept per login in localStorage) after the phone
// sleeps or the network drops. Close codes: 4002 (token expired) refreshes
// and reconnects; 4001 (disabled) and 4003 (logged out) end the session;
// anything else reconnects with backoff. onEvent gets every event;
// onReady({resync}) tells the screen to reload state when needed.
export class Live {
  constructor(onEvent, onReady, onState) {
    this.onEvent = onEvent; this.onReady = onReady; this.onState = onState || (() => {});
    this.stopped = false; this.backoff = 500; this.ws = null;
    this.wake = () => { if (!this.stopped && (!this.ws || this.ws.readyState > 1)) this.connect(); };
    addEventListener("online", this.wake);
    document.addEventListener("visibilitychange", this.wake);
    this.connect();
  }
  seqKey() {
    const s = session();
    if (!s) return null;
    const who = s.kind === "wallet" ? "w" + (s.wallet && s.wallet.id) : "s" + (s.staff && s.staff.id);
    return "paydesk.last_seq." + who;
  }
  connect() {
    const s = session();
    if (!s || this.stopped) return;
    clearTimeout(this.timer);
    const key = this.seqKey();
    const last = localStorage.getItem(key);
    const url = new URL("/v1/ws", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (last) url.searchParams.set("last_seq", last);
    const ws = new WebSocket(url, ["paydesk.v1", "bearer." + s.access]);
    this.ws = ws;
    this.onState("connecting");
    ws.onmessage = (m) => {
      let ev;
      try { ev = JSON.parse(m.data); } catch { return; }
      if (ev.type === "ready") {
        this.backoff = 500;
        if (ev.seq != null) localStorage.setItem(key, String(ev.seq));
        this.onState("live");
        this.onReady(ev);
        return;
      }
      if (ev.seq != null) localStorage.setItem(key, String(ev.seq));
      this.onEvent(ev);
    };
    ws.onclose = async (c) => {
      if (this.ws !== ws || this.stopped) return;
      this.onState("offline");
      if (c.code === 4001 || c.code === 4003) { endSession(c.code === 4001 ? "STAFF_DISABLED" : "SESSION_ENDED"); return; }
      if (c.code === 4002) {
        try { await refreshTokens(); } catch (e) { if (e.status === 401) { endSession(e.code); return; } }
        this.connect();
        return;
      }
      this.timer = setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 15000);
    };
  }
  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    removeEventListener("online", this.wake);
    document.removeEventListener("visibilitychange", this.wake);
    if (this.ws) this.ws.close(1000);
  }
}
