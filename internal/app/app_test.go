package app_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/internal/app"
	"github.com/paydesk/paydesk/internal/app/apptest"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// Build wires every service, and a second instance on the same database
// (a restart, or two instances) finds the platform's accounts as the first
// left them instead of opening them again.
func TestBuildWiresEveryServiceAndRebuildsOnTheSameDatabase(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		clock := testkit.NewClock(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
		first := apptest.Build(t, db, apptest.Settings(), clock.Now)
		v := reflect.ValueOf(first).Elem()
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.Kind() == reflect.Pointer && f.IsNil() {
				t.Errorf("App.%s is nil after Build", v.Type().Field(i).Name)
			}
		}
		ctx := context.Background()
		m, err := first.Merchants.CreateMerchant(ctx, merchant.NewMerchant{Name: "Rebuild Café", OwnerName: "Owner",
			OwnerPhone: "13700000001", OwnerPassword: "owner-pass-1"})
		if err != nil {
			t.Fatalf("create merchant: %v", err)
		}
		second := apptest.Build(t, db, apptest.Settings(), clock.Now)
		got, err := second.Merchants.Merchant(ctx, m.Merchant.ID)
		if err != nil || got.Name != "Rebuild Café" {
			t.Fatalf("second instance reads merchant %d: %+v, %v", m.Merchant.ID, got, err)
		}
	})
}

// A setting that cannot work stops Build with an error naming it, and
// what was started is stopped (Close on a partly built App is safe).
func TestBuildRefusesBadSettings(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite)
	for name, change := range map[string]func(*app.Settings){
		"short secret":    func(s *app.Settings) { s.Secret = []byte("short") },
		"data key length": func(s *app.Settings) { s.DataKey = []byte("0123") },
		"policy file":     func(s *app.Settings) { s.Policy = filepath.Join(t.TempDir(), "missing.csv") },
	} {
		t.Run(name, func(t *testing.T) {
			s := apptest.Settings()
			change(&s)
			a, err := app.Build(context.Background(), db, s, nil)
			if err == nil {
				a.Close()
				t.Fatal("Build accepted it")
			}
		})
	}
	var nothing *app.App
	nothing.Close()
}

// constructors are the services' constructors: only the composition root
// may call them, so the service graph is wired in one place and the tests
// build the same graph through it (apptest) instead of a copy.
var constructors = []string{
	"apikey.NewService", "bank.NewSimulator", "cashier.NewService", "checkout.NewService",
	"ledger.New", "merchant.NewService", "pos.NewMembers", "pos.NewService", "pos.NewStats",
	"pos.NewTickets", "push.NewOutbox", "rbac.NewEnforcer", "rbac.NewTokens", "sandbox.NewService",
	"settlement.New", "sms.NewConfirmer", "storage.NewAttempts", "storage.NewIdempotencyKeys",
	"wallet.New", "webhook.NewDispatcher", "webhook.NewService",
}

// TestOnlyAppWires walks the module's non-test Go files and fails on a
// call of a service constructor outside internal/app/app.go. Package-local
// tests may still build the one service they test.
func TestOnlyAppWires(t *testing.T) {
	root := filepath.Join("..", "..")
	want := map[string]bool{}
	for _, c := range constructors {
		want[c] = true
	}
	fset := token.NewFileSet()
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			name := pkg.Name + "." + sel.Sel.Name
			if !want[name] {
				return true
			}
			if filepath.ToSlash(rel) != "internal/app/app.go" {
				t.Errorf("%s calls %s: services are wired only in internal/app (app.Build)", fset.Position(call.Pos()), name)
			}
			seen[name] = true
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range constructors {
		if !seen[c] {
			t.Errorf("%s is not called in internal/app/app.go: a stale name in this test's list?", c)
		}
	}
}
