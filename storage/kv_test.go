package storage

import (
	"testing"

	"github.com/drbot-dev/drbot/incident"
	"github.com/google/go-cmp/cmp"
)

func TestRefs(t *testing.T) {
	s := openTest(t)
	update(t, s, func(tx incident.Tx) error {
		if err := tx.SetRef("inc/1/summary", "C1", "1700000000.000100"); err != nil {
			return err
		}
		return tx.SetRef("inc/1/summary", "C1", "1700000000.000200") // replaces
	})
	tests := []struct {
		ref, channel, ts string
		ok               bool
	}{
		{"inc/1/summary", "C1", "1700000000.000200", true},
		{"inc/1/missing", "", "", false},
	}
	for _, tt := range tests {
		view(t, s, func(tx incident.Tx) error {
			ch, ts, ok, err := tx.Ref(tt.ref)
			if ch != tt.channel || ts != tt.ts || ok != tt.ok {
				t.Errorf("Ref(%s): got %q %q %v, want %q %q %v", tt.ref, ch, ts, ok, tt.channel, tt.ts, tt.ok)
			}
			return err
		})
	}
}

func TestPlans(t *testing.T) {
	s := openTest(t)
	update(t, s, func(tx incident.Tx) error {
		if err := tx.SavePlan("h1", []byte("version: 1\n")); err != nil {
			return err
		}
		if err := tx.SavePlan("h1", []byte("ignored")); err != nil { // the hash names the content
			return err
		}
		return tx.SavePlan("empty", nil)
	})
	view(t, s, func(tx incident.Tx) error {
		for hash, want := range map[string]string{"h1": "version: 1\n", "empty": ""} {
			got, err := tx.PlanSource(hash)
			if err != nil {
				return err
			}
			if string(got) != want {
				t.Errorf("PlanSource(%s): got %q, want %q", hash, got, want)
			}
		}
		_, err := tx.PlanSource("nope")
		wantCode(t, err, incident.ENOTFOUND, "plan nope not found")
		return nil
	})
	err := s.Update(t.Context(), func(tx incident.Tx) error { return tx.SavePlan("", []byte("x")) })
	wantCode(t, err, incident.EINVALID, "")
}

func TestKV(t *testing.T) {
	s := openTest(t)
	var stored []bool
	update(t, s, func(tx incident.Tx) error {
		if err := tx.Put("email/a@example.com", "U0A"); err != nil {
			return err
		}
		if err := tx.Put("email/a@example.com", "U0B"); err != nil {
			return err
		}
		for _, v := range []string{"first", "second"} {
			ok, err := tx.PutIfAbsent("event/Ev01", v)
			if err != nil {
				return err
			}
			stored = append(stored, ok)
		}
		return nil
	})
	if diff := cmp.Diff(stored, []bool{true, false}); diff != "" {
		t.Errorf("PutIfAbsent (-got +want):\n%s", diff)
	}
	tests := []struct {
		key, want string
		ok        bool
	}{
		{"email/a@example.com", "U0B", true},
		{"event/Ev01", "first", true},
		{"missing", "", false},
	}
	for _, tt := range tests {
		view(t, s, func(tx incident.Tx) error {
			got, ok, err := tx.Get(tt.key)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Get(%s): got %q %v, want %q %v", tt.key, got, ok, tt.want, tt.ok)
			}
			return err
		})
	}
}
