// scanner.js: the camera scanner. It uses the browser's BarcodeDetector
// (Chrome on Android, Safari) when there is one; elsewhere the screens fall
// back to typed or pasted entry, which is always shown next to it.
import { h } from "./ui.js";
import { t } from "./i18n.js";

export function cameraSupported() {
  return "BarcodeDetector" in window && !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

// scanner returns {el, stop}. onCode(text) is called once with what was read.
export function scanner(formats, onCode) {
  const status = h("p", { class: "muted", role: "status" });
  const video = h("video", { class: "camera", muted: true, playsinline: true, "aria-label": t("scan_title") });
  let stream = null, stopped = false;
  const stop = () => { stopped = true; if (stream) stream.getTracks().forEach((tr) => tr.stop()); video.hidden = true; };
  const start = async () => {
    if (!cameraSupported()) { status.textContent = t("camera_unavailable"); return; }
    try {
      const supported = await BarcodeDetector.getSupportedFormats();
      const detector = new BarcodeDetector({ formats: formats.filter((f) => supported.includes(f)) });
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      stopped = false;
      const tick = async () => {
        if (stopped) return;
        try {
          const found = await detector.detect(video);
          if (found.length && found[0].rawValue) { stop(); onCode(found[0].rawValue); return; }
        } catch { /* frame not ready */ }
        setTimeout(tick, 200);
      };
      tick();
    } catch (e) {
      status.textContent = t("camera_unavailable");
    }
  };
  video.hidden = true;
  const el = h("div", { class: "scanner" },
    cameraSupported() ? h("button", { type: "button", class: "secondary", onclick: start }, t("camera_start")) : null,
    video, status);
  if (!cameraSupported()) status.textContent = t("camera_unavailable");
  return { el, stop };
}
