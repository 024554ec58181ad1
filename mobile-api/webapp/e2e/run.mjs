// Browser tests of the paydesk app. Builds paydesk, starts it on a free
// port with a temporary SQLite database, seeds it with the operator
// commands, and drives Debian's Chromium through Playwright (playwright-core)
// at 360×640:
//
//   1. the cashier shows a collection QR, a second browser context (the
//      customer) pays it, and the cashier's screen turns PAID without reload;
//   2. a scan-code payment (the typed fallback: the cashier types the code
//      the customer's wallet shows);
//   3. a scan-code payment above the no-password limit waits, is pushed to
//      the customer, who confirms it, and the cashier's screen turns PAID;
//   4. a manager adds a cashier, who then logs in;
//   5. the owner withdraws the available balance with one tap and a confirmation.
//
// Usage: npm ci && node run.mjs [--screenshots DIR]   (CHROMIUM=/path overrides /usr/bin/chromium)
import { chromium } from "playwright-core";
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const argv = process.argv.slice(2);
const shotsDir = argv.includes("--screenshots") ? path.resolve(argv[argv.indexOf("--screenshots") + 1]) : null;
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const tmp = mkdtempSync(path.join(tmpdir(), "paydesk-e2e-"));
const bin = path.join(tmp, "paydesk");
const started = Date.now();

const OWNER = { phone: "13800000001", password: "owner-pass-1" };
const MANAGER = { phone: "13810000001", password: "manager-pass-1" };
const CASHIER = { phone: "13820000001", password: "cashier-pass-1" };
const WALLET_PASSWORD = "load-test-pass"; // seed-wallets' published password

function log(...a) { console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s]`, ...a); }

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on("error", reject);
  });
}

let env, base, server, serverLog = "";
function paydesk(args, extraEnv = {}) {
  const r = spawnSync(bin, args, { env: { ...env, ...extraEnv }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`paydesk ${args.join(" ")}: exit ${r.status}\n${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : null;
}

async function api(method, p, body, token) {
  const res = await fetch(base + p, {
    method, body: body ? JSON.stringify(body) : undefined,
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: "Bearer " + token } : {}) },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function setUp() {
  log("building paydesk");
  execFileSync("go", ["build", "-o", bin, "./cmd/paydesk"], { cwd: root, stdio: "inherit" });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  env = {
    ...process.env, PAYDESK_DB: path.join(tmp, "paydesk.db"), PAYDESK_ADDR: `127.0.0.1:${port}`, PAYDESK_PUBLIC_URL: base,
    PAYDESK_BANK_DIR: path.join(tmp, "bank"), PAYDESK_BANK_DELAY: "1s", PAYDESK_SETTLE_EVERY: "1h", PAYDESK_LOG_FORMAT: "json",
  };
  const m = paydesk(["merchant", "create", "--name", "E2E Tea House", "--owner-phone", OWNER.phone, "--owner-name", "Olivia Owner", "--store", "Nanjing Rd"],
    { PAYDESK_OWNER_PASSWORD: OWNER.password });
  paydesk(["bank-account", "set", "--merchant", String(m.merchant_id), "--number", "6222020000000001", "--holder", "E2E Tea House Ltd"]);
  const w = paydesk(["seed-wallets", "--count", "3", "--prefix", "1390000", "--cash", "500000"]);
  log("starting paydesk on", base);
  server = spawn(bin, ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  server.stdout.on("data", (d) => { serverLog += d; });
  server.stderr.on("data", (d) => { serverLog += d; });
  for (let i = 0; ; i++) {
    try { if ((await fetch(base + "/readyz")).ok) break; } catch { /* not yet */ }
    if (i > 300 || server.exitCode !== null) throw new Error("paydesk did not start:\n" + serverLog);
    await new Promise((r) => setTimeout(r, 100));
  }
  const owner = await api("POST", "/v1/auth/login", OWNER);
  await api("POST", "/v1/staff", { name: "Mia Manager", role: "manager", store_id: m.store.id, ...MANAGER }, owner.access_token);
  await api("POST", "/v1/staff", { name: "Chen Cashier", role: "cashier", store_id: m.store.id, ...CASHIER }, owner.access_token);
  return { merchant: m, wallets: w.wallets.map((x) => x.phone) };
}

let browser;
const contexts = [];
async function phone(locale = "en-US") {
  const ctx = await browser.newContext({ viewport: { width: 360, height: 640 }, deviceScaleFactor: 1, locale, isMobile: true, hasTouch: true });
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.on("pageerror", (e) => { pageErrors.push(String(e)); });
  // A refused request is logged by the browser itself ("Failed to load
  // resource"); those are expected (the tests provoke refusals). Anything
  // else on the console is the app's own error.
  page.on("console", (msg) => { if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) pageErrors.push("console: " + msg.text()); });
  return page;
}
const pageErrors = [];

async function shot(page, name) {
  if (!shotsDir) return;
  mkdirSync(shotsDir, { recursive: true });
  await page.screenshot({ path: path.join(shotsDir, name + ".png") });
}

async function staffLogin(page, who) {
  await page.goto(base + "/app/#/login");
  await page.getByLabel("Phone number").fill(who.phone);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Log in" }).click();
}
async function walletLogin(page, phoneNo) {
  await page.goto(base + "/app/#/wallet/login");
  await page.getByLabel("Phone number").fill(phoneNo);
  await page.getByLabel("Password").fill(WALLET_PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByTestId("wallet-cash").waitFor();
}
async function typeAmount(page, text) {
  await page.getByRole("button", { name: "Clear" }).click();
  for (const k of text) await page.locator(`.keypad [data-key="${k}"]`).click();
}
async function expectState(page, want, timeout = 15000) {
  await page.locator(`[data-testid=order-state][data-state=${want}]`).waitFor({ timeout });
}
async function paymentCodeOf(page) {
  await page.goto(base + "/app/#/wallet/code");
  const el = page.getByTestId("pay-code");
  await page.waitForFunction(() => document.querySelector("[data-testid=pay-code]")?.dataset.code);
  return el.getAttribute("data-code");
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }

const results = [];
async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push([name, "ok", Date.now() - t0]);
    log("PASS", name);
  } catch (e) {
    results.push([name, "FAIL", Date.now() - t0]);
    log("FAIL", name, "\n", e.stack || e);
    for (const [i, c] of contexts.entries()) for (const [j, p] of c.pages().entries()) await p.screenshot({ path: path.join(tmp, `fail-${name.replace(/\W+/g, "_")}-${i}-${j}.png`) }).catch(() => {});
  }
}

async function main() {
  const seed = await setUp();
  browser = await chromium.launch({
    executablePath: chromiumPath, headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
  log("chromium", browser.version());

  const cashier = await phone();
  const customer = await phone();

  await test("cashier shows a collection QR; the customer pays it; the cashier's screen turns PAID without reload", async () => {
    await staffLogin(cashier, CASHIER);
    await cashier.getByTestId("amount").waitFor();
    await shot(cashier, "cashier-keypad");
    await typeAmount(cashier, "25.50");
    assert((await cashier.getByTestId("amount").textContent()).includes("25.50"), "the keypad shows 25.50");
    await cashier.getByRole("button", { name: "Show QR" }).click();
    const payload = await cashier.getByTestId("qr-payload").textContent();
    assert(payload.includes("/p/o/"), "the QR carries an order link: " + payload);
    await cashier.locator("img.qr").evaluate((img) => img.decode());
    await shot(cashier, "cashier-qr");
    await cashier.evaluate(() => { window.__noReload = "still here"; });

    await walletLogin(customer, seed.wallets[0]);
    await shot(customer, "wallet-home");
    await customer.goto(base + "/app/#/wallet/scan");
    await customer.getByTestId("qr-input").fill(payload);
    await customer.getByRole("button", { name: "Check" }).click();
    await customer.getByTestId("preview").waitFor();
    await customer.getByRole("button", { name: /Pay .*25\.50/ }).click();
    await customer.locator("[data-testid=payment-state][data-state=PAID]").waitFor();
    await shot(customer, "wallet-paid");

    await expectState(cashier, "PAID");
    assert(await cashier.evaluate(() => window.__noReload) === "still here", "the cashier's page was reloaded");
    assert((await cashier.locator(".funding").textContent()).includes("25.50"), "the funding breakdown shows the cash part");
    await shot(cashier, "cashier-paid");
  });

  await test("scan-code payment with the typed fallback", async () => {
    const code = await paymentCodeOf(customer);
    await customer.locator("img.barcode").evaluate((img) => img.decode());
    await shot(customer, "wallet-payment-code");
    await cashier.goto(base + "/app/#/cashier");
    await typeAmount(cashier, "12");
    await cashier.getByRole("button", { name: "Scan payment code" }).click();
    await cashier.getByLabel("Payment code (digits)").fill(code);
    await shot(cashier, "cashier-scan");
    await cashier.getByRole("button", { name: /Collect/ }).click();
    await expectState(cashier, "PAID");
    // The same code again is refused, in plain words.
    await cashier.goto(base + "/app/#/cashier");
    await typeAmount(cashier, "3");
    await cashier.getByRole("button", { name: "Scan payment code" }).click();
    await cashier.getByLabel("Payment code (digits)").fill(code);
    await cashier.getByRole("button", { name: /Collect/ }).click();
    await expectState(cashier, "REFUSED");
    const why = await cashier.getByTestId("refusal").textContent();
    assert(/already used/.test(why), "refusal in plain words: " + why);
    await shot(cashier, "cashier-refused");
  });

  await test("a payment above the no-password limit is confirmed by the customer", async () => {
    const second = await phone();
    await walletLogin(second, seed.wallets[1]);
    const code = await paymentCodeOf(second);
    await second.goto(base + "/app/#/wallet/home");
    await second.getByTestId("wallet-cash").waitFor();
    await cashier.goto(base + "/app/#/cashier");
    await typeAmount(cashier, "1200");
    await cashier.getByRole("button", { name: "Scan payment code" }).click();
    await cashier.getByLabel("Payment code (digits)").fill(code);
    await cashier.getByRole("button", { name: /Collect/ }).click();
    await expectState(cashier, "PAYING");
    await shot(cashier, "cashier-waiting");
    const dialog = second.getByTestId("confirm-payment");
    await dialog.waitFor({ timeout: 15000 });
    assert((await dialog.textContent()).includes("1,200.00"), "the pushed confirmation shows the amount");
    await shot(second, "wallet-confirm");
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await dialog.waitFor({ state: "detached" });
    await expectState(cashier, "PAID");
    await second.getByTestId("wallet-cash").waitFor();
    const cash = await second.getByTestId("wallet-cash").textContent();
    assert(cash.includes("3,800.00"), "the wallet shows 5,000.00 − 1,200.00: " + cash);
  });

  await test("a manager adds a cashier, who then logs in", async () => {
    const manager = await phone();
    await staffLogin(manager, MANAGER);
    await manager.getByTestId("today").waitFor();
    await manager.locator("svg.chart").waitFor();
    await shot(manager, "manager-overview");
    await manager.getByRole("link", { name: "Cashiers" }).click();
    await manager.getByLabel("Name").fill("Nina New");
    await manager.getByLabel("Phone number").fill("13820000099");
    await manager.getByLabel("Password").fill("new-cashier-pass");
    await manager.getByRole("button", { name: "Add cashier" }).click();
    await manager.locator('[data-staff="13820000099"]').waitFor();
    await shot(manager, "manager-cashiers");
    await manager.getByRole("link", { name: "Orders" }).click();
    await manager.locator("li.order").first().waitFor();
    await shot(manager, "manager-orders");

    const fresh = await phone();
    await staffLogin(fresh, { phone: "13820000099", password: "new-cashier-pass" });
    await fresh.getByTestId("amount").waitFor();
    assert((await fresh.locator("header").textContent()).includes("Nina New"), "the new cashier is logged in");
  });

  await test("the owner withdraws the available balance", async () => {
    // Money becomes available when a settlement payout fails. Let two days
    // pass for this merchant (its creation and its pending entries move back
    // in time), cut that day with the operator's command, and record its
    // payout as failed, which returns the money to available.
    const db = env.PAYDESK_DB, mid = seed.merchant.merchant_id;
    const back = (col) => `${col} = date(substr(${col}, 1, 10), '-2 days') || substr(${col}, 11)`;
    const pending = execFileSync("sqlite3", [db, `SELECT pending_account FROM merchants WHERE id = ${mid}`], { encoding: "utf8" }).trim();
    assert(pending, "the merchant's pending account");
    execFileSync("sqlite3", ["-cmd", ".timeout 5000", db,
      `UPDATE merchants SET ${back("created_at")} WHERE id = ${mid}; UPDATE ledger_entries SET ${back("created_at")} WHERE account_id = ${pending};`]);
    const at = execFileSync("sqlite3", [db, `SELECT substr(created_at, 1, 19) FROM ledger_entries WHERE account_id = ${pending} LIMIT 1`], { encoding: "utf8" }).trim();
    // The business day in the merchant's time zone (the --tz default).
    const day = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date(at.replace(" ", "T") + "Z"));
    // The scheduler's cursor (it cut through yesterday at start-up) moves back too.
    execFileSync("sqlite3", ["-cmd", ".timeout 5000", db, `UPDATE settlement_cursors SET cut_through = date('${day}', '-1 day') WHERE merchant_id = ${mid}`]);
    const cut = paydesk(["settle", "--date", day, "--merchant", String(mid)]);
    const batch = cut.find((l) => l.batch)?.batch;
    assert(batch, "a batch was cut: " + JSON.stringify(cut));
    paydesk(["payout", "record", "--batch", String(batch.id), "--status", "failed", "--reason", "returned by the bank (e2e)"]);

    const owner = await phone();
    await staffLogin(owner, OWNER);
    const available = owner.locator('[data-testid=balance] [data-k=available]');
    await available.waitFor();
    const before = await available.textContent();
    assert(!/^\D*0\.00$/.test(before.trim()), "available is not zero: " + before);
    await owner.locator("[data-testid=withdrawals]").waitFor();
    await shot(owner, "owner-balance");
    await owner.getByTestId("withdraw").click();
    await owner.getByRole("dialog").waitFor();
    assert((await owner.getByRole("dialog").textContent()).includes(before.trim()), "the confirmation names the amount");
    await shot(owner, "owner-withdraw-confirm");
    await owner.getByTestId("dialog-yes").click();
    await owner.locator("[data-testid=withdrawals] .pill.s-PAID, [data-testid=withdrawals] .pill.s-SUBMITTED").first().waitFor();
    await owner.locator("[data-testid=withdrawals] .pill.s-PAID").first().waitFor({ timeout: 20000 }); // the simulated bank pays after 1 s
    await owner.waitForFunction(() => /0\.00$/.test(document.querySelector("[data-testid=balance] [data-k=available]")?.textContent.trim()));
    await owner.getByRole("link", { name: "Bank account" }).click();
    await owner.getByTestId("bank-account").waitFor();
    await shot(owner, "owner-bank");
  });

  await test("Chinese: the cashier's keypad and an error in plain words", async () => {
    const zh = await phone("zh-CN");
    await zh.goto(base + "/app/#/login");
    await zh.getByLabel("手机号").fill(CASHIER.phone);
    await zh.getByLabel("密码").fill("wrong-password");
    await zh.getByRole("button", { name: "登录" }).click();
    await zh.getByText("手机号或密码错误。").waitFor();
    await shot(zh, "login-zh-error");
  });

  for (const c of contexts) await c.close();
  await browser.close();
}

let failed = false;
try {
  await main();
} catch (e) {
  console.error(e.stack || e);
  failed = true;
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) server.kill("SIGTERM");
}
for (const [n, r, ms] of results) console.log(`${r.padEnd(4)} ${(ms / 1000).toFixed(1).padStart(5)}s  ${n}`);
const bad = failed || results.some(([, r]) => r !== "ok") || results.length === 0;
if (pageErrors.length) console.log("page errors:\n  " + pageErrors.join("\n  "));
if (pageErrors.length) failed = true;
console.log(`${results.filter(([, r]) => r === "ok").length}/${results.length} browser tests passed in ${((Date.now() - started) / 1000).toFixed(1)} s` + (bad || failed ? `; artefacts in ${tmp}` : ""));
if (bad || failed) { if (serverLog) console.log("server log tail:\n" + serverLog.split("\n").slice(-30).join("\n")); process.exit(1); }
rmSync(tmp, { recursive: true, force: true });
