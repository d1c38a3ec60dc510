package playbooks

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

const day = 24 * time.Hour

// ParseDuration parses a Go duration ("90s", "10m", "1h30m") that may also
// use d for days of 24 hours ("14d", "1d12h", "1.5d").
func ParseDuration(s string) (time.Duration, error) {
	if !strings.Contains(s, "d") {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, badDuration(s)
		}
		return d, nil
	}
	bad := badDuration(s)
	// Split off each "<number>d" and hand the rest to time.ParseDuration,
	// so Go's own rules (units, fractions, overflow) apply to everything else.
	neg := false
	rest := s
	if rest[0] == '-' || rest[0] == '+' {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	var total float64 // nanoseconds
	var others strings.Builder
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] == '.' || rest[i] >= '0' && rest[i] <= '9') {
			i++
		}
		j := i
		for j < len(rest) && rest[j] != '.' && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		num, unit := rest[:i], rest[i:j]
		if num == "" || unit == "" {
			return 0, bad
		}
		if unit == "d" {
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, bad
			}
			total += f * float64(day)
		} else {
			others.WriteString(rest[:j])
		}
		rest = rest[j:]
	}
	if others.Len() > 0 {
		d, err := time.ParseDuration(others.String())
		if err != nil {
			return 0, bad
		}
		total += float64(d)
	}
	total = math.Round(total)
	if total >= math.MaxInt64 {
		return 0, fmt.Errorf("bad duration %q: too long", s)
	}
	d := time.Duration(total)
	if neg {
		d = -d
	}
	return d, nil
}

func badDuration(s string) error {
	return fmt.Errorf("bad duration %q: want a Go duration such as 90s, 10m or 1h30m, or days such as 14d", s)
}

// FormatDuration formats d compactly the way a plan writes durations:
// "45m", "1h30m", "2d4h", rounded to the second ("4h22m48s"). Durations
// under a second keep Go's format.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		return "-" + FormatDuration(-d)
	}
	if d < time.Second {
		return d.String()
	}
	d = d.Round(time.Second)
	var b strings.Builder
	for _, u := range []struct {
		size time.Duration
		name string
	}{{day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		// Once a unit is written, zeros in the middle are too, so that
		// 14h0m37s does not read as 14h37m.
		if n := d / u.size; n > 0 || b.Len() > 0 && d > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.size
		}
	}
	return b.String()
}

// parseFraction parses "99.95%" or "0.9995" into a fraction.
func parseFraction(s string) (float64, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	num := strings.TrimSpace(strings.TrimSuffix(s, "%"))
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("bad percentage %q: want a percentage such as 99.95%% or a fraction such as 0.9995", s)
	}
	if pct {
		f /= 100
	}
	return f, nil
}

// ParseAvailability parses an availability written as a percentage
// ("99.95%") or a fraction ("0.9995"). It must be in (0, 1].
func ParseAvailability(s string) (float64, error) {
	f, err := parseFraction(s)
	if err != nil {
		return 0, err
	}
	if f <= 0 || f > 1 {
		if !strings.HasSuffix(s, "%") && f > 1 && f <= 100 {
			return 0, fmt.Errorf("availability %q is more than 1: did you mean %s%%?", s, s)
		}
		return 0, fmt.Errorf("availability %q is out of range: want more than 0%% and at most 100%%", s)
	}
	return f, nil
}

// FormatAvailability formats an availability (a fraction) as a
// percentage with as many decimals as it needs, up to four: 99.95%,
// 99.9405%.
func FormatAvailability(a float64) string {
	s := strconv.FormatFloat(a*100, 'f', 4, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
}

// AllowedDowntime is how long a service with availability avail may be
// down in period: (1 - avail) × period.
func AllowedDowntime(avail float64, period time.Duration) time.Duration {
	avail = math.Max(0, math.Min(1, avail))
	return time.Duration(math.Round((1 - avail) * float64(period)))
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a standard 5-field cron spec ("0 9 1 */3 *") or a
// descriptor (@weekly, @every 720h; @every also takes days: @every 30d).
//
// A spec without a CRON_TZ= prefix is read in the location of the time
// given to Next, so call Next with times in the plan's Location.
func ParseSchedule(spec string) (cron.Schedule, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("empty schedule: want 5-field cron (\"0 9 * * 1\") or a descriptor (@weekly, @every 720h)")
	}
	if every, ok := strings.CutPrefix(spec, "@every "); ok {
		d, err := ParseDuration(strings.TrimSpace(every))
		if err != nil {
			return nil, fmt.Errorf("bad schedule %q: %w", spec, err)
		}
		if d < time.Second {
			return nil, fmt.Errorf("bad schedule %q: @every needs at least 1s", spec)
		}
		return cron.Every(d), nil
	}
	s, err := cronParser.Parse(spec)
	if f := strings.Fields(spec); err != nil && len(f) == 6 && !strings.HasPrefix(spec, "CRON_TZ=") && !strings.HasPrefix(spec, "TZ=") {
		return nil, fmt.Errorf("bad schedule %q: 6 fields, but drbot's schedules have 5 (minute hour day month weekday): "+
			"drop the seconds field, as in %q", spec, strings.Join(f[1:], " "))
	}
	if err != nil {
		return nil, fmt.Errorf("bad schedule %q: %v; want 5-field cron (\"0 9 * * 1\") or a descriptor (@weekly, @every 720h)", spec, err)
	}
	return s, nil
}
