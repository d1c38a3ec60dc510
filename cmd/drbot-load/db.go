package main

import (
	"context"
	"fmt"
	"net/url"
	"os"

	"github.com/jackc/pgx/v5"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage"
	"github.com/drbot-dev/drbot/storage/postgres"
)

// readStore is a store opened to read what drbot recorded.
type readStore interface {
	incident.Store
	Close() error
}

// openRead opens db, an SQLite file or a PostgreSQL URL, read-only.
func openRead(ctx context.Context, db string) (readStore, error) {
	if postgres.IsURL(db) {
		return postgres.Open(ctx, postgres.Config{URL: db, ReadOnly: true})
	}
	return storage.Open(ctx, storage.Config{Path: db, ReadOnly: true})
}

// phaseDB returns the database of a phase: dir/drbot.db, or with
// --postgres a new database on that server, dropped by drop (unless
// --keep).
func phaseDB(ctx context.Context, cfg Config, dir, name string) (db string, drop func(), err error) {
	if cfg.Postgres == "" {
		return dir + "/drbot.db", func() {}, nil
	}
	u, err := url.Parse(cfg.Postgres)
	if err != nil {
		return "", nil, fmt.Errorf("--postgres: %s", postgres.Redact(cfg.Postgres))
	}
	dbName := fmt.Sprintf("drbot_load_%d_%s", os.Getpid(), name)
	exec := func(sql string) error {
		conn, err := pgx.Connect(ctx, cfg.Postgres)
		if err != nil {
			return err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE DATABASE " + dbName); err != nil {
		return "", nil, fmt.Errorf("--postgres %s: create database %s: %w", postgres.Redact(cfg.Postgres), dbName, err)
	}
	u.Path = "/" + dbName
	return u.String(), func() {
		if cfg.Keep {
			return
		}
		if err := exec("DROP DATABASE " + dbName + " WITH (FORCE)"); err != nil {
			progress(cfg, "drop database %s: %v", dbName, err)
		}
	}, nil
}
