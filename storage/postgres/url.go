package postgres

import (
	"net/url"
	"strings"
)

// IsURL reports whether db names a PostgreSQL database rather than an
// SQLite file: it starts with postgres:// or postgresql://.
func IsURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Redact returns rawURL with its password replaced by xxxxx, for logs and
// messages. Text that is not a URL comes back as postgres://… with nothing
// of it shown, since it may hold a password anywhere.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "postgres://(a URL that does not parse)"
	}
	for _, k := range []string{"password", "sslpassword"} {
		if q := u.Query(); q.Has(k) {
			q.Set(k, "xxxxx")
			u.RawQuery = q.Encode()
		}
	}
	return u.Redacted()
}

// password returns the password in rawURL, or "".
func password(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	if p, ok := u.User.Password(); ok {
		return p
	}
	return u.Query().Get("password")
}

// EscapeUserinfo percent-encodes s for the user or password of a URL: a
// password from the environment may hold '@', ':' or '/'.
func EscapeUserinfo(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
	}
	return b.String()
}
