package bot

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// Slack's published example (docs: "Verifying requests from Slack").
const (
	exampleSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	exampleTS     = "1531420618"
	exampleBody   = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	exampleSig    = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

var exampleTime = time.Unix(1531420618, 0)

func TestVerify(t *testing.T) {
	headers := func(ts, sig string) http.Header {
		h := http.Header{}
		if ts != "" {
			h.Set(HeaderTimestamp, ts)
		}
		if sig != "" {
			h.Set(HeaderSignature, sig)
		}
		return h
	}
	tests := []struct {
		name    string
		now     time.Time
		header  http.Header
		body    string
		wantErr error // nil: valid; errAny: any error
	}{
		{"slack's example", exampleTime, headers(exampleTS, exampleSig), exampleBody, nil},
		{"4m59s later", exampleTime.Add(4*time.Minute + 59*time.Second), headers(exampleTS, exampleSig), exampleBody, nil},
		{"stale: 5m01s later", exampleTime.Add(5*time.Minute + time.Second), headers(exampleTS, exampleSig), exampleBody, ErrStaleSignature},
		{"from the future", exampleTime.Add(-6 * time.Minute), headers(exampleTS, exampleSig), exampleBody, ErrStaleSignature},
		{"stale by a day", exampleTime.Add(24 * time.Hour), headers(exampleTS, exampleSig), exampleBody, ErrStaleSignature},
		{"modified body", exampleTime, headers(exampleTS, exampleSig), exampleBody + "&text=declare", ErrBadSignature},
		{"body with one byte changed", exampleTime, headers(exampleTS, exampleSig), "T" + exampleBody[1:], ErrBadSignature},
		{"forged signature", exampleTime, headers(exampleTS, "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b504"), exampleBody, ErrBadSignature},
		{"other timestamp, same signature", exampleTime, headers("1531420619", exampleSig), exampleBody, ErrBadSignature},
		{"wrong version", exampleTime, headers(exampleTS, "v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"), exampleBody, ErrBadSignature},
		{"not hex", exampleTime, headers(exampleTS, "v0=zz"), exampleBody, ErrBadSignature},
		{"truncated signature", exampleTime, headers(exampleTS, exampleSig[:20]), exampleBody, ErrBadSignature},
		{"missing signature", exampleTime, headers(exampleTS, ""), exampleBody, ErrMissingSignature},
		{"missing timestamp", exampleTime, headers("", exampleSig), exampleBody, ErrMissingSignature},
		{"malformed timestamp", exampleTime, headers("15314206l8", exampleSig), exampleBody, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			v := Verifier{Secret: []byte(exampleSecret), Now: func() time.Time { return now }}
			err := v.Verify(tt.header, []byte(tt.body))
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("Verify = %v, want nil", err)
			case tt.wantErr == errAny && err == nil:
				t.Errorf("Verify = nil, want an error")
			case tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Errorf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestVerifyNeedsSecret(t *testing.T) {
	v := Verifier{Now: func() time.Time { return exampleTime }}
	h := http.Header{}
	h.Set(HeaderTimestamp, exampleTS)
	h.Set(HeaderSignature, exampleSig)
	if err := v.Verify(h, []byte(exampleBody)); err == nil {
		t.Errorf("Verify with no secret = nil, want an error")
	}
}

func TestSignMatchesSlack(t *testing.T) {
	h := Sign(exampleSecret, exampleTime, []byte(exampleBody))
	if got := h.Get(HeaderSignature); got != exampleSig {
		t.Errorf("Sign = %s, want %s", got, exampleSig)
	}
	if got := h.Get(HeaderTimestamp); got != exampleTS {
		t.Errorf("timestamp = %s, want %s", got, exampleTS)
	}
}
