package storagetest

import (
	"bufio"
	"context"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/paydesk/paydesk/storage"
)

// Faults kills database connections at COMMIT, the way a network cut, a
// killed session or a crashed proxy does, so that tests can show what a
// caller is told when the connection dies exactly there. Each COMMIT is
// killed, while the rate is above zero, with that probability, in one of
// two ways picked at random:
//
//   - before: the COMMIT never reaches the database, which rolls the
//     transaction back;
//   - after: the COMMIT reaches the database, which commits, but the
//     connection dies before the answer is read, so the caller sees an
//     error for a transaction that went through.
//
// On SQLite Faults wraps the driver of the writing connection; on MySQL
// it is a TCP proxy between the pool and the server that reads the
// client's packets and cuts the connection at a COM_QUERY "COMMIT" (the
// driver's), so the driver, the server and the network behave as they
// would in a real cut.
type Faults struct {
	rate          atomic.Uint64 // math.Float64bits of the probability
	mu            sync.Mutex
	rnd           *rand.Rand
	before, after atomic.Int64
	commits       atomic.Int64
}

// NewFaults returns Faults that kill nothing until SetRate, drawing from
// a generator seeded with seed, so a failing run can be repeated.
func NewFaults(seed uint64) *Faults {
	return &Faults{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// SetRate sets the probability that a COMMIT is killed; 0 stops the faults.
func (f *Faults) SetRate(p float64) { f.rate.Store(math.Float64bits(p)) }

// Killed says how many COMMITs were killed before and after they reached
// the database, and how many were seen in all.
func (f *Faults) Killed() (before, after, commits int64) {
	return f.before.Load(), f.after.Load(), f.commits.Load()
}

type fault int

const (
	noFault fault = iota
	killBefore
	killAfter
)

// next decides the fate of one COMMIT.
func (f *Faults) next() fault {
	f.commits.Add(1)
	p := math.Float64frombits(f.rate.Load())
	if p <= 0 {
		return noFault
	}
	f.mu.Lock()
	hit, before := f.rnd.Float64() < p, f.rnd.IntN(2) == 0
	f.mu.Unlock()
	switch {
	case !hit:
		return noFault
	case before:
		f.before.Add(1)
		return killBefore
	}
	f.after.Add(1)
	return killAfter
}

// OpenWithFaults returns a migrated empty database of dialect d whose
// commits f kills, removed when t ends. Nothing is killed until f.SetRate.
func OpenWithFaults(t testing.TB, d storage.Dialect, f *Faults) *storage.DB {
	t.Helper()
	dsn := DSN(t, d)
	opt := Options()
	if d == storage.SQLite {
		opt.WrapWriter = func(c driver.Connector) driver.Connector { return faultConnector{Connector: c, f: f} }
	} else {
		cfg, err := gomysql.ParseDSN(strings.TrimPrefix(dsn, "mysql://"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Addr = startProxy(t, cfg.Addr, f)
		dsn = "mysql://" + cfg.FormatDSN()
	}
	db, err := storage.Open(dsn, opt)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// errKilled is what a killed SQLite COMMIT answers: a lost connection.
var errKilled = fmt.Errorf("storagetest: the connection died at COMMIT: %w", driver.ErrBadConn)

// faultConnector opens faultConns.
type faultConnector struct {
	driver.Connector
	f *Faults
}

func (c faultConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &faultConn{Conn: conn, f: c.f}, nil
}

// faultConn passes everything through to the real connection until a
// COMMIT on it is killed; from then on it is dead, as a connection whose
// socket broke: every call fails and database/sql throws it away.
type faultConn struct {
	driver.Conn
	f    *Faults
	dead atomic.Bool
}

// The wrapped connection is storage's SQLite one, which has all of these.
type fullConn interface {
	driver.ExecerContext
	driver.QueryerContext
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

func (c *faultConn) inner() (fullConn, error) {
	if c.dead.Load() {
		return nil, driver.ErrBadConn
	}
	fc, ok := c.Conn.(fullConn)
	if !ok {
		return nil, errors.New("storagetest: the wrapped connection lacks a database/sql interface")
	}
	return fc, nil
}

func (c *faultConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	in, err := c.inner()
	if err != nil {
		return nil, err
	}
	return in.ExecContext(ctx, q, args)
}

func (c *faultConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	in, err := c.inner()
	if err != nil {
		return nil, err
	}
	return in.QueryContext(ctx, q, args)
}

func (c *faultConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	in, err := c.inner()
	if err != nil {
		return nil, err
	}
	return in.PrepareContext(ctx, q)
}

func (c *faultConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	in, err := c.inner()
	if err != nil {
		return nil, err
	}
	tx, err := in.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &faultTx{Tx: tx, conn: c}, nil
}

func (c *faultConn) Ping(ctx context.Context) error {
	in, err := c.inner()
	if err != nil {
		return err
	}
	return in.Ping(ctx)
}

func (c *faultConn) ResetSession(ctx context.Context) error {
	in, err := c.inner()
	if err != nil {
		return err
	}
	return in.ResetSession(ctx)
}

func (c *faultConn) IsValid() bool {
	in, err := c.inner()
	return err == nil && in.IsValid()
}

func (c *faultConn) CheckNamedValue(nv *driver.NamedValue) error {
	in, err := c.inner()
	if err != nil {
		return err
	}
	return in.CheckNamedValue(nv)
}

// faultTx kills its connection at Commit when the Faults say so.
type faultTx struct {
	driver.Tx
	conn *faultConn
}

func (tx *faultTx) Commit() error {
	switch tx.conn.f.next() {
	case killBefore:
		tx.Tx.Rollback()
		tx.conn.dead.Store(true)
		return errKilled
	case killAfter:
		err := tx.Tx.Commit()
		tx.conn.dead.Store(true)
		if err != nil {
			return err
		}
		return errKilled
	}
	return tx.Tx.Commit()
}

// startProxy listens on a free local port and relays every connection to
// target, killing it at the COMMITs f picks; it stops when t ends.
func startProxy(t testing.TB, target string, f *Faults) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	var (
		mu     sync.Mutex
		open   = map[net.Conn]bool{}
		closed bool
		wg     sync.WaitGroup
	)
	track := func(c net.Conn) bool {
		mu.Lock()
		defer mu.Unlock()
		if closed {
			c.Close()
			return false
		}
		open[c] = true
		return true
	}
	wg.Go(func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			if !track(client) || !track(server) {
				client.Close()
				server.Close()
				continue
			}
			p := &proxied{client: client, server: server}
			wg.Go(func() { p.toClient() })
			wg.Go(func() { p.toServer(f) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		closed = true
		for c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// proxied is one relayed connection.
type proxied struct {
	client, server net.Conn
}

// toClient copies the server's answers; once the client side is cut (or
// the server hangs up) it closes both sides. In a kill after the COMMIT
// this is what reads the server's answer to it, and drops it.
func (p *proxied) toClient() {
	io.Copy(p.client, p.server)
	p.client.Close()
	p.server.Close()
}

// toServer relays the client's packets one by one (three bytes of length,
// one of sequence, the payload) and kills the connection at a COMMIT
// when f says so.
func (p *proxied) toServer(f *Faults) {
	defer p.client.Close()
	r := bufio.NewReaderSize(p.client, 64<<10)
	var hdr [4]byte
	buf := make([]byte, 0, 4096)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			p.server.Close()
			return
		}
		n := int(binary.LittleEndian.Uint32(append(hdr[:3:3], 0)))
		buf = append(buf[:0], hdr[:]...)
		buf = append(buf, make([]byte, n)...)
		if _, err := io.ReadFull(r, buf[4:]); err != nil {
			p.server.Close()
			return
		}
		kill := noFault
		if n > 1 && buf[4] == 0x03 && strings.EqualFold(strings.TrimSpace(string(buf[5:])), "COMMIT") { // COM_QUERY
			kill = f.next()
		}
		if kill == killBefore {
			// Nothing reached the server: it sees the connection end and
			// rolls back.
			p.server.Close()
			return
		}
		if kill == killAfter {
			// The client's connection ends first, so that it cannot see
			// the server's OK, which toClient reads and drops.
			p.client.Close()
		}
		if _, err := p.server.Write(buf); err != nil {
			p.server.Close()
			return
		}
		if kill == killAfter {
			return
		}
	}
}
