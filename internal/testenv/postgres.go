package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// testDatabase is the database the tests' schemas live in, on the server
// of DRBOT_TEST_POSTGRES. Creating a database takes about a second;
// creating a schema, milliseconds.
const testDatabase = "drbot_test"

var (
	pgOnce    sync.Once
	pgBaseURL string
	pgErr     error
	pgSchemas atomic.Int64
)

// PostgresDB returns the URL of an empty PostgreSQL database of the test's
// own: a schema of its own in a database the tests share, selected by the
// URL's search_path parameter. The schema is dropped when the test ends.
// Like Postgres, it skips the test, or fails it in CI, when no server is
// configured.
func PostgresDB(t testing.TB) string {
	t.Helper()
	server := Postgres(t)
	pgOnce.Do(func() { pgBaseURL, pgErr = ensureDatabase(server) })
	if pgErr != nil {
		t.Fatalf("PostgreSQL test database: %v", pgErr)
	}
	schema := fmt.Sprintf("t_%d_%d_%d", os.Getpid(), time.Now().UnixMilli()%1e6, pgSchemas.Add(1))
	if err := execOn(pgBaseURL, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if err := execOn(pgBaseURL, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, _ := url.Parse(pgBaseURL)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// ensureDatabase creates the shared test database unless it exists, and
// returns its URL.
func ensureDatabase(server string) (string, error) {
	err := execOn(server, `CREATE DATABASE `+testDatabase)
	var pe *pgconn.PgError
	// 42P04: it exists; 23505: another test process created it meanwhile.
	if err != nil && !(errors.As(err, &pe) && (pe.Code == "42P04" || pe.Code == "23505")) {
		return "", err
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", err
	}
	u.Path = "/" + testDatabase
	return u.String(), nil
}

func execOn(dbURL, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}
