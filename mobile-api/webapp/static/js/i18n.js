// i18n.js: the app's words in English, Chinese and Vietnamese, error codes
// in plain words, and money from integer minor units.

const en = {
  app: "paydesk", staff_login: "Staff log-in", wallet_login: "Customer wallet", phone: "Phone number", password: "Password",
  login: "Log in", register: "Open a wallet", logout: "Log out", language: "Language", i_am_customer: "I am a customer",
  i_am_staff: "I work at a shop", loading: "Loading…", retry: "Try again", cancel: "Cancel", confirm: "Confirm", back: "Back",
  save: "Save", close: "Close", copy: "Copy", copied: "Copied", share: "Share", download: "Download", more: "More",
  // cashier
  cashier: "Cashier", amount: "Amount", clear: "Clear", backspace: "Delete last digit", show_qr: "Show QR",
  scan_code: "Scan payment code", dyn_password: "Dynamic password", enter_amount_first: "Enter an amount first",
  scan_title: "Scan the customer's payment code", camera_start: "Use the camera", camera_unavailable: "No camera scanner on this phone: type the code instead.",
  typed_code: "Payment code (digits)", collect: "Collect", customer_phone: "Customer's phone", customer_password: "Password they read out",
  qr_title: "Let the customer scan this", waiting_payer: "Waiting for the payer…", close_order: "Close this order", new_sale: "New sale",
  paid: "PAID", waiting: "Waiting for the payer to confirm", refused: "Refused", closed: "Closed", funding: "How it was paid",
  voucher: "Voucher", coupon: "Coupon", cash: "Balance", card: "Card", fee: "Fee", my_orders: "My orders", today: "Today",
  gross: "Gross", net: "Net", refunded: "Refunded", paid_orders: "Paid orders", refunds: "Refunds", no_orders: "No orders yet",
  order_no: "Order no.", state: "State", method: "Method", expires: "Expires",
  // manager
  manager: "Manager", overview: "Overview", orders: "Orders", cashiers: "Cashiers", links: "Payment links", last30: "Last 30 days",
  filter: "Filter", all: "All", from: "From", to: "To", refund: "Refund", void: "Void", reason: "Reason", refund_amount: "Refund amount",
  add_cashier: "Add cashier", name: "Name", role: "Role", store: "Store", active: "active", disabled: "disabled", disable: "Disable",
  enable: "Enable", reset_password: "Reset password", new_password: "New password", added: "Added", subject: "What it is for",
  create_link: "Create link", link: "Link", load_more: "Load more",
  // owner
  owner: "Owner", stores: "Stores", team: "Staff", balance: "Balance", available: "Available", pending: "Pending", frozen: "Frozen",
  book: "Book", settlements: "Settlements", withdraw: "Withdraw", withdraw_all: "Withdraw everything available",
  withdraw_confirm: "Withdraw {amount} to {account}?", withdrawals: "Withdrawals", bank_account: "Bank account",
  bank_number: "Account number", holder: "Account holder", bank_name: "Bank", your_password: "Your password (to confirm)",
  bind: "Bind account", not_bound: "No account bound yet", statement: "Statement", members: "Members", tickets: "Tickets",
  visits: "Visits", spent: "Spent", add_store: "Add store", stores_unavailable: "This server cannot list stores yet; these come from the staff list.",
  NOT_DUE: "Not due yet", AWAITING_PAYMENT: "Awaiting payment", SUBMITTED: "Payment submitted", PAID: "Paid", FAILED: "Payment failed",
  withdraw_done: "Withdrawal submitted", upcoming: "Upcoming", withdrawable: "Withdrawable now", in_flight: "In flight",
  // wallet
  wallet: "Wallet", home: "Home", pay: "Pay", history: "History", vouchers: "Vouchers", coupons: "Coupons", no_card: "No card bound",
  bind_card: "Bind card", card_number: "Card number", expiry_month: "Month", expiry_year: "Year", pay_code: "Payment code",
  pay_code_help: "Show this to the cashier. It changes by itself.", scan_qr: "Scan a shop's QR", qr_payload: "QR or link",
  scan_help: "Point the camera at the QR, or paste the link.", check: "Check", pay_now: "Pay {amount}", payee: "Pay to",
  confirm_title: "Confirm this payment?", decline: "Decline", confirmed: "Paid", declined: "Declined", none: "Nothing here yet",
  no_password_limit: "Payments above {amount} wait for your confirmation", topup: "Top up", tickets_mine: "My tickets",
  live: "Live", offline: "Offline — reconnecting", connecting: "Connecting…",
  // states
  CREATED: "Awaiting payment", PAYING: "Waiting for the payer", CLOSED: "Closed", PARTIALLY_REFUNDED: "Partly refunded", REFUNDED: "Refunded",
  REVOKED: "Voided", scan: "Scan code", qr: "Collection QR", dynamic_password: "Dynamic password", store_qr: "Store QR", installment: "Instalment",
  ISSUED: "Issued", REDEEMED: "Redeemed", EXPIRED: "Expired",
};

const zh = {
  app: "paydesk", staff_login: "员工登录", wallet_login: "顾客钱包", phone: "手机号", password: "密码", login: "登录", register: "开通钱包",
  logout: "退出登录", language: "语言", i_am_customer: "我是顾客", i_am_staff: "我是店员", loading: "加载中…", retry: "重试", cancel: "取消",
  confirm: "确认", back: "返回", save: "保存", close: "关闭", copy: "复制", copied: "已复制", share: "分享", download: "下载", more: "更多",
  cashier: "收银", amount: "金额", clear: "清空", backspace: "删除一位", show_qr: "收款码", scan_code: "扫码收款", dyn_password: "动态密码",
  enter_amount_first: "请先输入金额", scan_title: "扫描顾客的付款码", camera_start: "打开摄像头", camera_unavailable: "此手机不支持摄像头扫码，请手动输入付款码。",
  typed_code: "付款码（数字）", collect: "收款", customer_phone: "顾客手机号", customer_password: "顾客报出的动态密码", qr_title: "请顾客扫描此码",
  waiting_payer: "等待付款…", close_order: "关闭订单", new_sale: "新收款", paid: "已支付", waiting: "等待顾客确认", refused: "支付失败",
  closed: "已关闭", funding: "支付方式", voucher: "代金券", coupon: "和包券", cash: "余额", card: "银行卡", fee: "手续费", my_orders: "我的订单",
  today: "今日数据", gross: "收款", net: "净收入", refunded: "已退款", paid_orders: "收款笔数", refunds: "退款笔数", no_orders: "暂无订单",
  order_no: "订单号", state: "状态", method: "方式", expires: "有效期至",
  manager: "店长", overview: "概览", orders: "订单", cashiers: "收银员", links: "收款链接", last30: "近30天", filter: "筛选", all: "全部",
  from: "从", to: "到", refund: "退款", void: "撤销", reason: "原因", refund_amount: "退款金额", add_cashier: "添加收银员", name: "姓名",
  role: "角色", store: "门店", active: "正常", disabled: "已停用", disable: "停用", enable: "启用", reset_password: "重置密码",
  new_password: "新密码", added: "已添加", subject: "收款事由", create_link: "生成链接", link: "链接", load_more: "加载更多",
  owner: "老板", stores: "门店", team: "员工", balance: "余额", available: "可提现", pending: "待结算", frozen: "冻结", book: "账面",
  settlements: "结算进度", withdraw: "提现", withdraw_all: "一键提现", withdraw_confirm: "确认提现 {amount} 到 {account}？", withdrawals: "提现记录",
  bank_account: "结算银行卡", bank_number: "卡号", holder: "户名", bank_name: "银行", your_password: "登录密码（用于确认）", bind: "绑定银行卡",
  not_bound: "尚未绑定银行卡", statement: "对账单", members: "会员管理", tickets: "验票", visits: "到店次数", spent: "消费",
  add_store: "添加门店", stores_unavailable: "服务器暂不支持门店列表；以下门店来自员工列表。",
  NOT_DUE: "未到付款日", AWAITING_PAYMENT: "等待付款", SUBMITTED: "付款已提交", PAID: "已支付", FAILED: "付款失败",
  withdraw_done: "提现已提交", upcoming: "即将结算", withdrawable: "可立即提现", in_flight: "处理中",
  wallet: "钱包", home: "首页", pay: "付款", history: "账单", vouchers: "代金券", coupons: "和包券", no_card: "未绑定银行卡", bind_card: "绑定银行卡",
  card_number: "卡号", expiry_month: "月", expiry_year: "年", pay_code: "付款码", pay_code_help: "向收银员出示，付款码会自动刷新。",
  scan_qr: "扫一扫", qr_payload: "二维码或链接", scan_help: "用摄像头对准二维码，或粘贴链接。", check: "查看", pay_now: "支付 {amount}",
  payee: "收款方", confirm_title: "确认这笔付款？", decline: "拒绝", confirmed: "已支付", declined: "已拒绝", none: "暂无记录",
  no_password_limit: "超过 {amount} 的付款需要您确认", topup: "充值", tickets_mine: "我的票券", live: "实时", offline: "离线，正在重连", connecting: "连接中…",
  CREATED: "待支付", PAYING: "等待顾客确认", CLOSED: "已关闭", PARTIALLY_REFUNDED: "部分退款", REFUNDED: "已退款", REVOKED: "已撤销",
  scan: "扫码", qr: "收款码", dynamic_password: "动态密码", store_qr: "门店码", installment: "分期", ISSUED: "已发放", REDEEMED: "已核销", EXPIRED: "已过期",
};

const vi = {
  staff_login: "Nhân viên đăng nhập", wallet_login: "Ví khách hàng", phone: "Số điện thoại", password: "Mật khẩu", login: "Đăng nhập",
  register: "Mở ví", logout: "Đăng xuất", language: "Ngôn ngữ", cancel: "Hủy", confirm: "Xác nhận", back: "Quay lại", amount: "Số tiền",
  cashier: "Thu ngân", show_qr: "Mã QR thu tiền", scan_code: "Quét mã thanh toán", dyn_password: "Mật khẩu động", collect: "Thu tiền",
  paid: "ĐÃ THANH TOÁN", waiting: "Đang chờ khách xác nhận", refused: "Bị từ chối", today: "Hôm nay", orders: "Đơn hàng", balance: "Số dư",
  available: "Khả dụng", pending: "Chờ quyết toán", frozen: "Tạm giữ", withdraw: "Rút tiền", wallet: "Ví", pay: "Thanh toán", history: "Lịch sử",
  pay_code: "Mã thanh toán", decline: "Từ chối", confirm_title: "Xác nhận thanh toán này?",
};

const errors = {
  en: {
    NETWORK: "No connection to the server. Check the network and try again.",
    INVALID_CREDENTIALS: "Wrong phone number or password.", TOO_MANY_ATTEMPTS: "Too many tries. Wait a moment, then try again.",
    STAFF_DISABLED: "This account has been disabled. Ask your manager.", SESSION_ENDED: "You were logged out. Please log in again.",
    UNAUTHORIZED: "Please log in.", TOKEN_EXPIRED: "Your session expired. Please log in again.", TOKEN_INVALID: "Please log in again.",
    REFRESH_TOKEN_INVALID: "Please log in again.", REFRESH_TOKEN_REUSED: "For your safety you were logged out everywhere. Please log in again.",
    FORBIDDEN: "Your role may not do this.", NOT_FOUND: "Not found.", ORDER_NOT_FOUND: "No such order.", STAFF_NOT_FOUND: "No such staff member.",
    INSUFFICIENT_FUNDS: "The customer's balance is not enough.", PAYMENT_CODE_EXPIRED: "This payment code has expired. Ask for a fresh one.",
    PAYMENT_CODE_INVALID: "This is not a valid payment code.", PAYMENT_CODE_USED: "This payment code was already used. Ask for a fresh one.",
    DYNAMIC_PASSWORD_WRONG: "The dynamic password is wrong.", DYNAMIC_PASSWORD_USED: "This dynamic password was already used.",
    CARD_DECLINED: "The customer's bank card was declined.", CARD_NOT_BOUND: "No bank card is bound.", CARD_INVALID: "The card details are not valid.",
    ORDER_EXPIRED: "This order has expired.", ORDER_CLOSED: "This order is closed.", ORDER_ALREADY_PAID: "This order is already paid.",
    ORDER_NOT_AWAITING_CONFIRMATION: "This payment is no longer waiting for you.", ORDER_NOT_REFUNDABLE: "This order cannot be refunded.",
    REFUND_EXCEEDS_PAID: "That is more than is left to refund.", REFUND_WINDOW_EXPIRED: "It is too late to refund this order.",
    VOID_NOT_ALLOWED: "Only today's unrefunded orders can be voided.", INVALID_AMOUNT: "Enter an amount above zero.",
    AMOUNT_OVERFLOW: "That amount is too large.", AMOUNT_ABOVE_LIMIT: "That amount is above the limit.", QR_PAYLOAD_INVALID: "This QR is not a paydesk code.",
    MERCHANT_NOT_ACTIVE: "This shop cannot take payments right now.", PHONE_TAKEN: "This phone number is already registered.",
    INVALID_PHONE: "Enter a phone number of 6 to 15 digits.", WEAK_PASSWORD: "Choose a longer password (at least 8 characters).",
    PASSWORD_INCORRECT: "Your password is not correct.", LAST_OWNER: "The last owner cannot be disabled.",
    BANK_ACCOUNT_NOT_BOUND: "Bind a bank account first.", BANK_ACCOUNT_INVALID: "The bank account number is not valid.",
    MERCHANT_INSUFFICIENT_BALANCE: "There is not enough available balance.", WITHDRAWAL_BELOW_MINIMUM: "That is below the smallest withdrawal.",
    WITHDRAWAL_DAILY_LIMIT: "That would pass today's withdrawal limit.", PAYOUT_IN_FLIGHT: "A payout is already on its way.",
    BANK_UNAVAILABLE: "The bank is not answering. Try again shortly.", UNAVAILABLE: "The service is busy. Try again in a moment.",
    IDEMPOTENCY_IN_PROGRESS: "Still working on it. Try again in a moment.", DUPLICATE_OUT_TRADE_NO: "This order number was used already.",
    PAYMENT_IN_PROGRESS: "A payment is already in progress.", FUNDING_CHANGED: "The balance changed. Please try again.",
    WALLET_NOT_FOUND: "No wallet with this phone number.", STORE_NOT_FOUND: "No such store.", INVALID_ARGUMENT: "Something in the form is not right.",
    INVALID_CURSOR: "The list changed. Reload it.", BUSINESS_DAY_NOT_ENDED: "That business day has not ended yet.",
    TICKET_ALREADY_REDEEMED: "This ticket was already used.", TICKET_EXPIRED: "This ticket has expired.", INTERNAL: "Something went wrong on our side. Please try again.",
    UNKNOWN: "Something went wrong ({code}).",
  },
  zh: {
    NETWORK: "无法连接服务器，请检查网络后重试。", INVALID_CREDENTIALS: "手机号或密码错误。", TOO_MANY_ATTEMPTS: "尝试次数过多，请稍后再试。",
    STAFF_DISABLED: "此账号已停用，请联系店长。", SESSION_ENDED: "您已退出登录，请重新登录。", UNAUTHORIZED: "请先登录。", TOKEN_EXPIRED: "登录已过期，请重新登录。",
    TOKEN_INVALID: "请重新登录。", REFRESH_TOKEN_INVALID: "请重新登录。", REFRESH_TOKEN_REUSED: "为了您的安全，已在所有设备退出，请重新登录。",
    FORBIDDEN: "您的角色无权执行此操作。", NOT_FOUND: "未找到。", ORDER_NOT_FOUND: "订单不存在。", INSUFFICIENT_FUNDS: "顾客余额不足。",
    PAYMENT_CODE_EXPIRED: "付款码已过期，请顾客刷新。", PAYMENT_CODE_INVALID: "付款码无效。", PAYMENT_CODE_USED: "付款码已使用，请顾客刷新。",
    DYNAMIC_PASSWORD_WRONG: "动态密码错误。", DYNAMIC_PASSWORD_USED: "动态密码已使用。", CARD_DECLINED: "顾客的银行卡被拒绝。",
    ORDER_EXPIRED: "订单已过期。", ORDER_CLOSED: "订单已关闭。", ORDER_ALREADY_PAID: "订单已支付。", ORDER_NOT_AWAITING_CONFIRMATION: "这笔付款已无需确认。",
    ORDER_NOT_REFUNDABLE: "此订单不能退款。", REFUND_EXCEEDS_PAID: "超过可退金额。", REFUND_WINDOW_EXPIRED: "已超过退款期限。", VOID_NOT_ALLOWED: "只有当天未退款的订单可以撤销。",
    INVALID_AMOUNT: "请输入大于零的金额。", QR_PAYLOAD_INVALID: "这不是 paydesk 的二维码。", PHONE_TAKEN: "该手机号已注册。", INVALID_PHONE: "请输入6到15位手机号。",
    WEAK_PASSWORD: "密码太短（至少8位）。", PASSWORD_INCORRECT: "密码不正确。", BANK_ACCOUNT_NOT_BOUND: "请先绑定银行卡。", MERCHANT_INSUFFICIENT_BALANCE: "可提现余额不足。",
    WITHDRAWAL_BELOW_MINIMUM: "低于最低提现金额。", WITHDRAWAL_DAILY_LIMIT: "超过当日提现限额。", BANK_UNAVAILABLE: "银行暂无响应，请稍后再试。",
    UNAVAILABLE: "服务繁忙，请稍后再试。", DUPLICATE_OUT_TRADE_NO: "订单号已被使用。", WALLET_NOT_FOUND: "该手机号没有钱包。", INTERNAL: "系统出错，请重试。",
    UNKNOWN: "出错了（{code}）。",
  },
};

const dicts = { en, zh, vi: { ...en, ...vi } };
const LANG_KEY = "paydesk.lang";
export const languages = [["zh", "中文", "中文"], ["en", "EN", "English"], ["vi", "VI", "Tiếng Việt"]];
let lang = localStorage.getItem(LANG_KEY) || (navigator.language || "en").slice(0, 2);
if (!dicts[lang]) lang = "en";
document.documentElement.lang = lang;

export function getLang() { return lang; }
export function setLang(l) { if (dicts[l]) { lang = l; localStorage.setItem(LANG_KEY, l); document.documentElement.lang = l; } }

export function t(key, vars) {
  let s = dicts[lang][key] ?? en[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replace("{" + k + "}", v);
  return s;
}

// errorText is the plain words for an error code.
export function errorText(err) {
  const code = (err && err.code) || "INTERNAL";
  const table = errors[lang] || errors.en;
  const s = table[code] ?? errors.en[code];
  if (s) return s;
  if (code === "HTTP_503" || code === "HTTP_502") return table.UNAVAILABLE || errors.en.UNAVAILABLE;
  return (table.UNKNOWN || errors.en.UNKNOWN).replace("{code}", code);
}

// Minor units per currency, from the platform's own Intl data (CNY 2, VND 0, JPY 0 …).
const exps = {};
export function exponent(currency) {
  if (!(currency in exps)) {
    try { exps[currency] = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits; } catch { exps[currency] = 2; }
  }
  return exps[currency];
}
const locales = { en: "en-US", zh: "zh-CN", vi: "vi-VN" };

// money formats integer minor units: money(1250, "CNY") is "¥12.50".
export function money(minor, currency) {
  if (minor == null) return "—";
  const cur = currency || "CNY";
  const e = exponent(cur);
  const n = BigInt(Math.trunc(Number(minor)));
  const neg = n < 0n, abs = neg ? -n : n, p = 10n ** BigInt(e);
  // A decimal string keeps every digit (Intl formats strings exactly).
  const major = e > 0 ? `${abs / p}.${(abs % p).toString().padStart(e, "0")}` : `${abs}`;
  const s = new Intl.NumberFormat(locales[lang] || "en-US", { style: "currency", currency: cur, minimumFractionDigits: e, maximumFractionDigits: e }).format(major);
  return neg ? "−" + s : s;
}

// parseMoney turns what was typed ("12.5") into minor units (1250), exactly,
// without floating point; null when it is not a valid amount.
export function parseMoney(text, currency) {
  const e = exponent(currency || "CNY");
  const m = String(text).trim().replace(/,/g, "").match(e > 0 ? new RegExp(`^(\\d+)(?:\\.(\\d{0,${e}}))?$`) : /^(\d+)$/);
  if (!m) return null;
  const v = BigInt(m[1]) * 10n ** BigInt(e) + BigInt((m[2] || "").padEnd(e, "0") || "0");
  if (v <= 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(v);
}

export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString(locales[lang] || "en-US", { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

// toDecimal is minor units as a plain decimal to edit: toDecimal(1250, "CNY") is "12.50".
export function toDecimal(minor, currency) {
  const e = exponent(currency || "CNY"), p = 10 ** e;
  const n = Math.trunc(Number(minor));
  return e ? `${Math.trunc(n / p)}.${String(n % p).padStart(e, "0")}` : String(n);
}
