package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startDebug serves the runtime profiles and the metrics on
// Config.DebugAddr, a listener of its own so they never share the public
// API's address (the public port serves /metrics only with
// Config.MetricsToken, and pprof never). Its handlers are
// registered on a private mux: importing net/http/pprof for its side effect
// would put them on http.DefaultServeMux for anyone who serves that.
func (m *Main) startDebug() error {
	if m.Config.DebugAddr == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/metrics", m.API.MetricsHandler())
	ln, err := net.Listen("tcp", m.Config.DebugAddr)
	if err != nil {
		return fmt.Errorf("listen on debug address %s: %w", m.Config.DebugAddr, err)
	}
	m.debugLn = ln
	m.debug = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go m.debug.Serve(ln)
	m.Logger.Warn("serving profiles and metrics: keep this address private", "debug_addr", ln.Addr().String())
	return nil
}

// DebugAddr is the address of the debug listener, with the real port when
// Config.DebugAddr asked for port 0; "" without one.
func (m *Main) DebugAddr() string {
	if m.debugLn == nil {
		return ""
	}
	return m.debugLn.Addr().String()
}
