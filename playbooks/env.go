package playbooks

import (
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Options change how ParseWith and LoadWith resolve the ${NAME}
// references of paging.webhook, the one place of a plan that may hold a
// secret.
type Options struct {
	// LookupEnv resolves ${NAME}; nil is os.LookupEnv.
	LookupEnv func(name string) (string, bool)
	// UnsetIsWarning makes a reference to an unset (or empty) variable a
	// warning instead of an error: the plan loads, with Paging.Webhook
	// empty and Paging.WebhookUnset naming the variables. It is for where
	// the secret may rightly be absent: "drbot plan check" in CI, and
	// re-reading the plan an incident was declared with (its secret is
	// only needed to send the webhook, which then fails saying so).
	UnsetIsWarning bool
}

func (o Options) lookup(name string) (string, bool) {
	if o.LookupEnv != nil {
		return o.LookupEnv(name)
	}
	return os.LookupEnv(name)
}

var (
	// envRef is a ${NAME} reference; envName what NAME may be (the
	// shell's rule).
	envRef  = regexp.MustCompile(`\$\{([^}]*)\}`)
	envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// expandEnv replaces each ${NAME} in s with the variable's value. A $
// not followed by { is kept as it is: URLs may contain one. It returns
// the names that are unset or empty (an empty secret is a mistake, not a
// value) and the references that are malformed.
func expandEnv(s string, o Options) (out string, unset, bad []string) {
	out = envRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := ref[2 : len(ref)-1]
		if !envName.MatchString(name) {
			bad = append(bad, ref)
			return ref
		}
		v, ok := o.lookup(name)
		if !ok || v == "" {
			if !slices.Contains(unset, name) {
				unset = append(unset, name)
			}
			return ""
		}
		return v
	})
	if strings.Contains(envRef.ReplaceAllString(s, ""), "${") {
		bad = append(bad, "${ without a closing }")
	}
	return out, unset, bad
}

// credentialParams are query parameters that carry a secret in the
// webhook URLs of common paging and chat services.
var credentialParams = []string{"routing_key", "integration_key", "token", "access_token", "api_key", "apikey", "key", "secret", "password", "sig", "code"}

// literalCredential reports whether webhook, as written in the plan (its
// ${NAME} references not expanded), holds a secret in plain text, and if
// so what it is and the ${NAME} reference to write instead. The rules are
// deliberately simple, so a person can predict them:
//
//   - a query parameter named in credentialParams with a value
//     (routing_key=…, token=…);
//   - a user name or password before the host (https://user:pass@host);
//   - a path segment of 16 or more letters, digits, '-' and '_' that
//     switches between letters and digits at least 4 times: it looks
//     random, as tokens do (Slack's /services/T…/B…/XXXX, Discord's
//     /api/webhooks/ID/TOKEN), where names such as "incident-2024" do not.
//
// Anything written as a ${NAME} reference is not literal and is skipped.
// The secret itself is never part of what it returns.
func literalCredential(webhook string) (what, instead string, found bool) {
	u, err := url.Parse(envRef.ReplaceAllString(webhook, ""))
	if err != nil {
		return "", "", false
	}
	pagerDuty := pagerDutyHost(u.Hostname())
	q := u.Query()
	for _, name := range credentialParams {
		for key, vs := range q {
			if !strings.EqualFold(key, name) {
				continue
			}
			for _, v := range vs {
				if v == "" {
					continue
				}
				env := "DRBOT_WEBHOOK_TOKEN"
				if pagerDuty || name == "routing_key" || name == "integration_key" {
					env = "DRBOT_PAGERDUTY_KEY"
				}
				return key + "=…", key + "=${" + env + "}", true
			}
		}
	}
	if u.User != nil {
		if pw, _ := u.User.Password(); pw != "" || u.User.Username() != "" {
			return "a user name or password before the host", "https://${DRBOT_WEBHOOK_USER}:${DRBOT_WEBHOOK_PASSWORD}@" + u.Host + "/…", true
		}
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if tokenLike(seg) {
			return "a token in its path", "/${DRBOT_WEBHOOK_TOKEN}", true
		}
	}
	return "", "", false
}

// tokenLike is the path-segment rule of literalCredential.
func tokenLike(seg string) bool {
	if len(seg) < 16 {
		return false
	}
	switches, last := 0, 0 // last: 1 letter, 2 digit
	for _, r := range seg {
		kind := 0
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			kind = 1
		case r >= '0' && r <= '9':
			kind = 2
		case r == '-' || r == '_':
			continue
		default:
			return false
		}
		if last != 0 && kind != last {
			switches++
		}
		last = kind
	}
	return switches >= 4
}

// PagerDutyHost reports whether host is a PagerDuty Events API v2
// endpoint (US or EU service region): a webhook there gets PagerDuty
// events, with the routing_key of its URL moved into the body.
func PagerDutyHost(host string) bool { return pagerDutyHost(host) }

func pagerDutyHost(host string) bool {
	switch strings.ToLower(host) {
	case "events.pagerduty.com", "events.eu.pagerduty.com":
		return true
	}
	return false
}

// webhook decodes paging.webhook: it expands the ${NAME} references,
// checks that the result is an http or https URL, and warns about a
// credential written in plain text. Messages quote the text as written,
// never the expanded value, which may be a secret.
func (p *parser) webhook(v field) {
	s, ok := p.scalar(v.name(), v.val)
	if !ok || s == "" {
		return
	}
	expanded, unset, bad := expandEnv(s, p.opts)
	for _, b := range bad {
		p.errorf(v.val, "webhook: %s is not a valid environment variable reference; write ${NAME}, NAME of letters, digits and _", b)
	}
	if len(bad) > 0 {
		return
	}
	if what, instead, found := literalCredential(s); found {
		p.warnf(v.val, "paging.webhook contains a credential (%s); put it in an environment variable: %s", what, instead)
	}
	if len(unset) > 0 {
		sev, then := Error, "drbot does not start without it"
		if p.opts.UnsetIsWarning {
			sev, then = Warning, "drbot serve will not start without it"
		}
		names := strings.Join(unset, ", ")
		p.report(v.val, sev, "webhook: environment variable %s is not set; set it in drbot's environment (%s)", names, then)
		p.plan.Paging.WebhookUnset = unset
		return
	}
	if u, err := url.Parse(expanded); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		if expanded != s {
			p.errorf(v.val, "webhook: %q, with its environment variables expanded, is not an http or https URL", s)
		} else {
			p.errorf(v.val, "webhook: %q is not an http or https URL", s)
		}
		return
	}
	p.plan.Paging.Webhook = expanded
}

// ExpandEnv replaces each ${NAME} in s with lookup(NAME), as the plan's
// paging.webhook is expanded: the same rule for a database URL's password
// (DRBOT_DB=postgres://drbot:${PGPASS}@db/drbot). It returns the names that
// are unset or empty and the references that are malformed; nil lookup is
// os.LookupEnv.
func ExpandEnv(s string, lookup func(name string) (string, bool)) (out string, unset, bad []string) {
	return expandEnv(s, Options{LookupEnv: lookup})
}
