// Package webapp serves the paydesk app: the phone web client for cashiers,
// managers, owners and customers, at /app/. Its files are plain ES modules,
// HTML and CSS under static/, embedded in the binary, so serving it needs
// neither Node.js nor a build step nor anything from a CDN. The app talks
// to the public /v1 API and /v1/ws only.
//
// Caching: every response carries a strong ETag (a hash of the file) and
// "Cache-Control: no-cache", so a phone revalidates (a cheap 304) and never
// runs yesterday's script against today's API; the service worker at
// /app/sw.js keeps an offline copy of the shell and is scoped to /app/.
package webapp

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var files embed.FS

// Prefix is where the app is served.
const Prefix = "/app/"

type file struct {
	body  []byte
	etag  string
	ctype string
}

// assets are the embedded files by their path under /app/, read once.
var assets = func() map[string]file {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err)
	}
	out := map[string]file{}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) { // not every system's mime table knows these
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".webmanifest":
			ct = "application/manifest+json"
		case ".svg":
			ct = "image/svg+xml"
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		out[p] = file{body: b, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, ctype: ct}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return out
}()

// Mount returns a handler that serves the app under /app/ and passes every
// other request to next.
func Mount(next http.Handler) http.Handler {
	app := Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/app" || strings.HasPrefix(r.URL.Path, Prefix) {
			app.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Handler serves the app's files. /app redirects to /app/; a path that is no
// file gets index.html (the app routes by the URL's hash, so this only
// catches mistyped links); methods other than GET and HEAD get 405.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/app" {
			http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, Prefix)
		if name == "" {
			name = "index.html"
		}
		f, ok := assets[name]
		if !ok {
			if path.Ext(name) != "" { // a missing asset is a 404, not the page
				http.NotFound(w, r)
				return
			}
			f = assets["index.html"]
		}
		h := w.Header()
		h.Set("Content-Type", f.ctype)
		h.Set("ETag", f.etag)
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if name == "sw.js" {
			h.Set("Service-Worker-Allowed", Prefix)
		}
		if strings.HasPrefix(f.ctype, "text/html") {
			// Scripts and styles from the app itself only; the camera for scanning.
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; "+
				"media-src 'self' blob: mediastream:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
			h.Set("Permissions-Policy", "camera=(self)")
		}
		// ServeContent answers If-None-Match with 304 and handles HEAD and ranges.
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
	})
}
