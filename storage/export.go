package storage

import (
	"context"
	"fmt"
	"strings"
)

// Table is one of drbot's tables and the columns drbot migrate copies. The
// PostgreSQL store has the same tables and columns.
type Table struct {
	Name    string
	Columns []string
}

// Tables are drbot's tables in an order that satisfies their foreign keys
// (incidents before timeline).
var Tables = []Table{
	{"incidents", []string{"id", "state", "scenario", "drill", "declared_at", "channel_id", "data"}},
	{"timeline", []string{"id", "incident_id", "at", "kind", "actor", "text", "data"}},
	{"timers", []string{"key", "incident_id", "kind", "due", "data"}},
	{"outbox", []string{"id", "lane", "incident_id", "kind", "body", "due", "attempts", "last_error", "state", "created", "sent_at", "dropped_at"}},
	{"refs", []string{"ref", "channel_id", "ts"}},
	{"plans", []string{"hash", "source", "created"}},
	{"kv", []string{"key", "value", "updated"}},
}

// Export reads every row of Tables from one snapshot of the database, for
// drbot migrate: rows[table] holds the values of each row in the order of
// the table's Columns (int64, string, []byte or nil), sorted by the first
// column. It reads the whole database into memory: drbot's databases are
// megabytes.
func (s *Store) Export(ctx context.Context) (map[string][][]any, error) {
	tx, err := s.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", s.path, err)
	}
	defer tx.Rollback()
	out := map[string][][]any{}
	for _, t := range Tables {
		rows, err := tx.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", strings.Join(t.Columns, ", "), t.Name, t.Columns[0]))
		if err != nil {
			return nil, fmt.Errorf("export %s from %s: %w", t.Name, s.path, err)
		}
		for rows.Next() {
			vals := make([]any, len(t.Columns))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("export %s from %s: %w", t.Name, s.path, err)
			}
			out[t.Name] = append(out[t.Name], vals)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("export %s from %s: %w", t.Name, s.path, err)
		}
	}
	return out, nil
}
