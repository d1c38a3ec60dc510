package playbooks

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "90s", want: 90 * time.Second},
		{in: "10m", want: 10 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "0", want: 0},
		{in: "14d", want: 14 * 24 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "1.5d", want: 36 * time.Hour},
		{in: "2d30m10s", want: 48*time.Hour + 30*time.Minute + 10*time.Second},
		{in: "1h1d", want: 25 * time.Hour},
		{in: "-1d", want: -24 * time.Hour},
		{in: "+1d", want: 24 * time.Hour},
		{in: "300ms", want: 300 * time.Millisecond},
		{in: "", wantErr: true},
		{in: "d", wantErr: true},
		{in: "1dd", wantErr: true},
		{in: "1 d", wantErr: true},
		{in: "10", wantErr: true},
		{in: "1x", wantErr: true},
		{in: "two days", wantErr: true},
		{in: "1d-2h", wantErr: true},
		{in: "..5d", wantErr: true},
		{in: "200000000d", wantErr: true}, // overflows int64 nanoseconds
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseDuration(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{500 * time.Millisecond, "500ms"},
		{45 * time.Minute, "45m"},
		{90 * time.Minute, "1h30m"},
		{8 * time.Hour, "8h"},
		{14*time.Hour + 37*time.Second, "14h0m37s"},
		{14 * 24 * time.Hour, "14d"},
		{50 * time.Hour, "2d2h"},
		{4*time.Hour + 22*time.Minute + 48*time.Second + 400*time.Millisecond, "4h22m48s"},
		{-2 * time.Hour, "-2h"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.in); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if tt.in >= time.Second && tt.in%time.Second == 0 {
			// What FormatDuration writes, ParseDuration reads back.
			if back, err := ParseDuration(tt.want); err != nil || back != tt.in {
				t.Errorf("ParseDuration(%q) = %v, %v, want %v", tt.want, back, err, tt.in)
			}
		}
	}
}

func TestParseAvailability(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr string
	}{
		{in: "99.95%", want: 0.9995},
		{in: "0.9995", want: 0.9995},
		{in: "100%", want: 1},
		{in: "1", want: 1},
		{in: " 99.9 % ", want: 0.999},
		{in: "50%", want: 0.5},
		{in: "99.95", wantErr: "did you mean 99.95%?"},
		{in: "101%", wantErr: "out of range"},
		{in: "0%", wantErr: "out of range"},
		{in: "0", wantErr: "out of range"},
		{in: "-5%", wantErr: "out of range"},
		{in: "150", wantErr: "out of range"},
		{in: "NaN", wantErr: "bad percentage"},
		{in: "Inf%", wantErr: "bad percentage"},
		{in: "high", wantErr: "bad percentage"},
		{in: "", wantErr: "bad percentage"},
		{in: "%", wantErr: "bad percentage"},
	}
	for _, tt := range tests {
		got, err := ParseAvailability(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseAvailability(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAvailability(%q) error = %v", tt.in, err)
			continue
		}
		if !approx(got, tt.want) {
			t.Errorf("ParseAvailability(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestAllowedDowntime(t *testing.T) {
	tests := []struct {
		avail  float64
		period time.Duration
		want   time.Duration
	}{
		{0.999, Month, 43*time.Minute + 12*time.Second},
		{0.999, Year, 8*time.Hour + 45*time.Minute + 36*time.Second},
		{0.9995, Month, 21*time.Minute + 36*time.Second},
		{0.9999, Year, 52*time.Minute + 33*time.Second + 600*time.Millisecond},
		{0.99, 24 * time.Hour, 14*time.Minute + 24*time.Second},
		{1, Year, 0},
		{0, Month, Month},
		{1.5, Month, 0},    // clamped
		{-1, Month, Month}, // clamped
	}
	for _, tt := range tests {
		got := AllowedDowntime(tt.avail, tt.period)
		// Float rounding may leave a few nanoseconds either way.
		if d := got - tt.want; d > time.Microsecond || d < -time.Microsecond {
			t.Errorf("AllowedDowntime(%v, %v) = %v, want %v", tt.avail, tt.period, got, tt.want)
		}
	}
}

func TestParseSchedule(t *testing.T) {
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 1, 15, 12, 0, 0, 0, oslo) // a Thursday
	tests := []struct {
		spec    string
		want    time.Time // Next(from)
		wantErr bool
	}{
		{spec: "0 9 1 */3 *", want: time.Date(2026, 4, 1, 9, 0, 0, 0, oslo)},
		{spec: "0 10 * * 3", want: time.Date(2026, 1, 21, 10, 0, 0, 0, oslo)},
		{spec: "@weekly", want: time.Date(2026, 1, 18, 0, 0, 0, 0, oslo)},
		{spec: "@daily", want: time.Date(2026, 1, 16, 0, 0, 0, 0, oslo)},
		{spec: "@every 720h", want: from.Add(720 * time.Hour)},
		{spec: "@every 30d", want: from.Add(720 * time.Hour)},
		{spec: "CRON_TZ=UTC 0 9 * * *", want: time.Date(2026, 1, 16, 9, 0, 0, 0, time.UTC)},
		{spec: "", wantErr: true},
		{spec: "0 9 * *", wantErr: true},
		{spec: "0 0 9 * * *", wantErr: true}, // 6 fields: no seconds
		{spec: "61 9 * * *", wantErr: true},
		{spec: "@fortnightly", wantErr: true},
		{spec: "@every", wantErr: true},
		{spec: "@every 2x", wantErr: true},
		{spec: "@every 10ms", wantErr: true},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.spec)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseSchedule(%q) error = %v, want error %v", tt.spec, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if got := s.Next(from); !got.Equal(tt.want) {
			t.Errorf("ParseSchedule(%q).Next(%v) = %v, want %v", tt.spec, from, got, tt.want)
		}
	}
}
