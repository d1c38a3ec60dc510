package incident

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestStoredJSONUnchanged reads state as an earlier drbot wrote it
// (testdata/stored, written before the engine's words were renamed:
// paging runs became callouts, step runs step records, approval rounds
// approval requests, review rounds review notices, alert rounds alert
// episodes) and checks that it decodes with no key left over, fills every
// field, and encodes back to the same JSON: renaming a Go identifier must
// never rename what the database, the outbox and the timers hold.
func TestStoredJSONUnchanged(t *testing.T) {
	for _, c := range []struct {
		file string
		v    any
	}{
		{"incident.json", new(Incident)},
		{"alert-state.json", new(alertState)},
		{"review-sent.json", new(reviewNotice)},
		{"review-confirmation.json", new(ReviewConfirmation)},
		{"review-event.json", new(ReviewEvent)},
		{"review-body.json", new(ReviewBody)},
	} {
		t.Run(c.file, func(t *testing.T) {
			old, err := os.ReadFile(filepath.Join("testdata", "stored", c.file))
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(old))
			dec.DisallowUnknownFields()
			if err := dec.Decode(c.v); err != nil {
				t.Fatalf("decode the stored JSON: %v (a json tag was renamed?)", err)
			}
			if path := zeroField(reflect.ValueOf(c.v).Elem(), c.file); path != "" {
				t.Fatalf("%s is not set by the stored JSON: give it a value there, so that its key is checked", path)
			}
			again, err := json.Marshal(c.v)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			if err := json.Unmarshal(old, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(again, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("encodes differently from what was stored:\n got %s\nwant %s", again, old)
			}
		})
	}
	// The fields the renames touched, by their new names.
	var inc Incident
	readStored(t, "incident.json", &inc)
	rp, rec := inc.Roles[0], inc.Steps[0]
	if rp.CalloutStart != 3 || !rp.WaitingSince.Equal(time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC)) || rp.Prev == nil || !rp.Prev.Acked {
		t.Errorf("role page = %+v", rp)
	}
	if rec.ApprovalRequest != 2 {
		t.Errorf("step = %+v", rec)
	}
	var as alertState
	readStored(t, "alert-state.json", &as)
	if as.Episode != 3 {
		t.Errorf("alert state = %+v", as)
	}
	var rs reviewNotice
	readStored(t, "review-sent.json", &rs)
	var rc ReviewConfirmation
	readStored(t, "review-confirmation.json", &rc)
	var re ReviewEvent
	readStored(t, "review-event.json", &re)
	var rb ReviewBody
	readStored(t, "review-body.json", &rb)
	if rs.Notice != 4 || rc.Notice != 4 || re.Notice != 4 || rb.Notice != 4 {
		t.Errorf("review: sent %d, confirmation %d, event %d, body %d; want 4", rs.Notice, rc.Notice, re.Notice, rb.Notice)
	}
}

func readStored(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "stored", file))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// zeroField returns the path of the first exported field of v (a struct,
// walked into its structs, pointers and first slice elements) that holds
// its zero value, or "". A Message is not walked: it is the rendered text
// and has no engine words in it.
func zeroField(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return path
		}
		return zeroField(v.Elem(), path)
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			return path
		}
		if v.Kind() == reflect.Slice {
			return zeroField(v.Index(0), path+"[0]")
		}
		return ""
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) || v.Type() == reflect.TypeOf(Message{}) {
			if v.IsZero() {
				return path
			}
			return ""
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Tag.Get("json") == "-" {
				continue
			}
			if p := zeroField(v.Field(i), path+"."+f.Name); p != "" {
				return p
			}
		}
		return ""
	default:
		if v.IsZero() {
			return path
		}
		return ""
	}
}
