package rbac

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// The model is fixed in the binary: changing its shape would need code that
// understands the new shape. The policy is data, and an operator may replace it.
var (
	//go:embed model.conf
	modelConf string
	//go:embed policy.csv
	defaultPolicy []byte
)

// DefaultPolicy returns the policy compiled into the binary, as a starting
// point for an operator who wants to edit a copy.
func DefaultPolicy() []byte { return bytes.Clone(defaultPolicy) }

// Rule is one line of the policy: Role may call Route (a gin route
// template such as "/v1/orders/:id/refunds") with Method.
type Rule struct {
	Role   Role
	Route  string
	Method string
}

// Enforcer decides whether a role may call a route. It is built once at
// start-up and never changed afterwards, which is what makes it safe for
// concurrent use without a lock: casbin's Enforce only reads an enforcer
// whose model has no role links.
type Enforcer struct {
	casbin *casbin.Enforcer
	rules  []Rule

	// Decisions are memoised because casbin evaluates the matcher once per
	// policy line. The keys are route templates, a set as small as the
	// route table, but the cap keeps a caller passing raw paths by mistake
	// from growing the map without bound.
	memo  sync.Map // memoKey -> bool
	memoN atomic.Int64
}

const memoCap = 4096

type memoKey struct {
	role          Role
	route, method string
}

// NewEnforcer loads the embedded model with the policy file at policyPath,
// or with the embedded default policy when policyPath is "". A policy that
// does not parse, names an unknown role or method, or is empty is refused,
// so a typo stops the server at start-up instead of silently locking a
// role out.
func NewEnforcer(policyPath string) (*Enforcer, error) {
	src, name := defaultPolicy, "embedded policy.csv"
	if policyPath != "" {
		b, err := os.ReadFile(policyPath)
		if err != nil {
			return nil, fmt.Errorf("rbac: read policy: %w", err)
		}
		src, name = b, policyPath
	}
	rules, err := parsePolicy(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("rbac: %s: %w", name, err)
	}
	m, err := model.NewModelFromString(modelConf)
	if err != nil {
		return nil, fmt.Errorf("rbac: model: %w", err)
	}
	ce, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("rbac: enforcer: %w", err)
	}
	ce.EnableLog(false)
	lines := make([][]string, len(rules))
	for i, r := range rules {
		lines[i] = []string{string(r.Role), r.Route, r.Method}
	}
	if _, err := ce.AddPolicies(lines); err != nil {
		return nil, fmt.Errorf("rbac: load %s: %w", name, err)
	}
	// One decision now, so that a model casbin cannot evaluate fails here
	// and not on the first request.
	if _, err := ce.Enforce(string(rules[0].Role), rules[0].Route, rules[0].Method); err != nil {
		return nil, fmt.Errorf("rbac: evaluate %s: %w", name, err)
	}
	return &Enforcer{casbin: ce, rules: rules}, nil
}

// Allowed reports whether role may call route with method. route is the
// route template that matched (gin's c.FullPath()), not the request path.
// Any doubt, including an internal error, denies.
func (e *Enforcer) Allowed(role Role, route, method string) bool {
	k := memoKey{role, route, method}
	if v, ok := e.memo.Load(k); ok {
		return v.(bool)
	}
	ok, err := e.casbin.Enforce(string(role), route, method)
	if err != nil {
		// Unreachable with the model checked in NewEnforcer; denying is
		// the only safe answer if it ever happens.
		ok = false
	}
	if e.memoN.Load() < memoCap {
		if _, loaded := e.memo.LoadOrStore(k, ok); !loaded {
			e.memoN.Add(1)
		}
	}
	return ok
}

// AllowedAny reports whether one of subjects may call route with method:
// an API key's scopes, each a subject (ScopeSubject).
func (e *Enforcer) AllowedAny(subjects []Role, route, method string) bool {
	for _, sub := range subjects {
		if e.Allowed(sub, route, method) {
			return true
		}
	}
	return false
}

// Rules returns a copy of the policy lines in file order, so that tests and
// the OpenAPI document can walk every role × route pair the policy allows.
func (e *Enforcer) Rules() []Rule { return append([]Rule(nil), e.rules...) }

var methods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}

// parsePolicy reads casbin's CSV policy format ("p, role, route, method";
// '#' comments), stricter than casbin's own loaders, which skip a line
// they cannot read without a word.
func parsePolicy(r io.Reader) ([]Rule, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	cr.FieldsPerRecord = -1
	seen := map[Rule]bool{}
	var rules []Rule
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		if len(rec) == 1 && rec[0] == "" {
			continue // a line of blanks
		}
		if len(rec) != 4 || rec[0] != "p" {
			return nil, fmt.Errorf("line %d: want \"p, role, route, method\", got %q", line, strings.Join(rec, ", "))
		}
		rule := Rule{Role: Role(rec[1]), Route: rec[2], Method: rec[3]}
		switch {
		case !rule.Role.Valid() && !rule.Role.IsScope():
			return nil, fmt.Errorf("line %d: unknown role %q (want one of %v, or an API key scope as scope:<name>)", line, rule.Role, Roles())
		case !strings.HasPrefix(rule.Route, "/") || strings.ContainsAny(rule.Route, " \t?"):
			return nil, fmt.Errorf("line %d: route %q is not a route template such as /v1/orders/:id", line, rule.Route)
		case !methods[rule.Method]:
			return nil, fmt.Errorf("line %d: unknown HTTP method %q (methods are upper case)", line, rule.Method)
		}
		if !seen[rule] {
			seen[rule] = true
			rules = append(rules, rule)
		}
	}
	if len(rules) == 0 {
		return nil, errors.New("the policy has no rules; every route would be refused")
	}
	return rules, nil
}
