package webapp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/mobile-api/webapp"
)

func serve(t *testing.T, next http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(webapp.Mount(next))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, c *http.Client, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestServesTheAppAndPassesTheRestOn(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api "+r.URL.Path) })
	srv := serve(t, api)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	res, body := get(t, c, srv.URL+"/app/", nil)
	if res.StatusCode != 200 || !strings.Contains(body, `<script type="module" src="/app/js/app.js">`) {
		t.Fatalf("GET /app/: %d %q", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("index Content-Type %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control %q, want no-cache (revalidate every load)", cc)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}

	// The ETag revalidates to 304.
	etag := res.Header.Get("ETag")
	if res, _ := get(t, c, srv.URL+"/app/", map[string]string{"If-None-Match": etag}); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", res.StatusCode)
	}

	res, _ = get(t, c, srv.URL+"/app/js/api.js", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("api.js: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	res, body = get(t, c, srv.URL+"/app/sw.js", nil)
	if res.StatusCode != 200 || res.Header.Get("Service-Worker-Allowed") != "/app/" || !strings.Contains(body, "addEventListener") {
		t.Errorf("sw.js: %d Service-Worker-Allowed %q", res.StatusCode, res.Header.Get("Service-Worker-Allowed"))
	}
	if res, _ := get(t, c, srv.URL+"/app/manifest.webmanifest", nil); res.Header.Get("Content-Type") != "application/manifest+json" {
		t.Errorf("manifest Content-Type %q", res.Header.Get("Content-Type"))
	}

	if res, _ := get(t, c, srv.URL+"/app", nil); res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/app/" {
		t.Errorf("/app: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := get(t, c, srv.URL+"/app/js/nope.js", nil); res.StatusCode != 404 {
		t.Errorf("missing asset: %d, want 404", res.StatusCode)
	}
	if res, body := get(t, c, srv.URL+"/app/cashier", nil); res.StatusCode != 200 || !strings.Contains(body, "app.js") {
		t.Errorf("a page path serves the shell: %d", res.StatusCode)
	}
	res, err := c.Post(srv.URL+"/app/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /app/: %d, want 405", res.StatusCode)
	}

	for _, p := range []string{"/v1/orders", "/application", "/p/o/x"} {
		if _, body := get(t, c, srv.URL+p, nil); body != "api "+p {
			t.Errorf("%s went to %q, want the API", p, body)
		}
	}
}

// The app may talk to the public API only: no script names a route outside
// /v1 (or the app's own files), and nothing is loaded from another origin.
func TestAppUsesOnlyThePublicAPI(t *testing.T) {
	srv := serve(t, http.NotFoundHandler())
	for _, f := range []string{"index.html", "js/api.js", "js/app.js", "js/cashier.js", "js/merchant.js", "js/wallet.js", "js/ui.js", "js/i18n.js", "js/scanner.js", "sw.js"} {
		res, body := get(t, http.DefaultClient, srv.URL+"/app/"+f, nil)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", f, res.StatusCode)
		}
		for _, bad := range []string{"http://", "https://", "//cdn", "eval(", "innerHTML"} {
			if strings.Contains(body, bad) && !(bad == "http://" && strings.Contains(body, "http://www.w3.org/2000/svg")) {
				t.Errorf("%s contains %q", f, bad)
			}
		}
	}
}
