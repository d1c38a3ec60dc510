package playbooks

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// webhookPlan is a clean plan whose paging.webhook (line 6, column 12) is
// webhook.
func webhookPlan(webhook string) []byte {
	return []byte(`version: 1
contacts:
  alice: {name: Alice, slack: U0ALICE01}
  bob: {name: Bob, slack: U0BOB0001}
paging:
  webhook: "` + webhook + `"
roles:
  commander: [alice, bob]
scenarios:
  outage:
    title: Outage
    severity: sev2
    page: [commander]
    steps:
      - {id: look, do: Look.}
`)
}

func fakeEnv(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestWebhookEnv(t *testing.T) {
	env := fakeEnv(map[string]string{
		"DRBOT_PAGERDUTY_KEY": "R0UT1NG-K3Y",
		"HOOK":                "https://hooks.example.com/page",
		"EMPTY":               "",
	})
	const pd = "https://events.pagerduty.com/v2/enqueue?routing_key="
	tests := []struct {
		name    string
		webhook string
		lenient bool
		want    string   // Paging.Webhook; "" with diags
		unset   []string // Paging.WebhookUnset
		diags   []string
	}{
		{name: "no reference", webhook: "https://hooks.example.com/page", want: "https://hooks.example.com/page"},
		{name: "query", webhook: pd + "${DRBOT_PAGERDUTY_KEY}", want: pd + "R0UT1NG-K3Y"},
		{name: "whole URL", webhook: "${HOOK}", want: "https://hooks.example.com/page"},
		{name: "dollar without brace is kept", webhook: "https://hooks.example.com/a$b", want: "https://hooks.example.com/a$b"},
		{name: "unset", webhook: pd + "${DRBOT_MISSING}",
			diags: []string{"p.yaml:6:12: webhook: environment variable DRBOT_MISSING is not set; set it in drbot's environment (drbot does not start without it)"}},
		{name: "empty is unset", webhook: "${HOOK}?token=${EMPTY}",
			diags: []string{"p.yaml:6:12: webhook: environment variable EMPTY is not set; set it in drbot's environment (drbot does not start without it)"}},
		{name: "unset, lenient", webhook: pd + "${DRBOT_MISSING}", lenient: true, unset: []string{"DRBOT_MISSING"},
			diags: []string{"p.yaml:6:12: warning: webhook: environment variable DRBOT_MISSING is not set; set it in drbot's environment (drbot serve will not start without it)"}},
		{name: "two unset, named once each", webhook: "https://${A}.example.com/${B}/${A}", lenient: true, unset: []string{"A", "B"},
			diags: []string{"p.yaml:6:12: warning: webhook: environment variable A, B is not set; set it in drbot's environment (drbot serve will not start without it)"}},
		{name: "bad name", webhook: "https://hooks.example.com/${1X}",
			diags: []string{"p.yaml:6:12: webhook: ${1X} is not a valid environment variable reference; write ${NAME}, NAME of letters, digits and _"}},
		{name: "unclosed", webhook: "https://hooks.example.com/${X",
			diags: []string{"p.yaml:6:12: webhook: ${ without a closing } is not a valid environment variable reference; write ${NAME}, NAME of letters, digits and _"}},
		{name: "expands to no URL", webhook: "${DRBOT_PAGERDUTY_KEY}",
			diags: []string{`p.yaml:6:12: webhook: "${DRBOT_PAGERDUTY_KEY}", with its environment variables expanded, is not an http or https URL`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := webhookPlan(tt.webhook)
			p, ds := ParseWith("p.yaml", src, Options{LookupEnv: env, UnsetIsWarning: tt.lenient})
			var got []string
			for _, d := range ds {
				got = append(got, d.String())
			}
			if diff := cmp.Diff(got, tt.diags); diff != "" {
				t.Errorf("diagnostics (-got +want):\n%s", diff)
			}
			if ds.HasErrors() {
				if p != nil {
					t.Errorf("a plan despite errors")
				}
				return
			}
			if p == nil {
				t.Fatalf("no plan:\n%s", diagText(ds))
			}
			if got := p.Paging.Webhook; got != tt.want {
				t.Errorf("Webhook = %q, want %q", got, tt.want)
			}
			if diff := cmp.Diff(p.Paging.WebhookUnset, tt.unset); diff != "" {
				t.Errorf("WebhookUnset (-got +want):\n%s", diff)
			}
			// What is stored is the text as written, with no secret.
			if string(p.Source) != string(src) || strings.Contains(string(p.Source), "R0UT1NG-K3Y") {
				t.Errorf("Source is not the plan as written:\n%s", p.Source)
			}
		})
	}
}

// Parse, unlike ParseWith with a fake, reads the process environment.
func TestParseReadsEnvironment(t *testing.T) {
	t.Setenv("DRBOT_TEST_WEBHOOK_KEY", "K3Y-FR0M-ENV")
	p, ds := Parse("p.yaml", webhookPlan("https://events.pagerduty.com/v2/enqueue?routing_key=${DRBOT_TEST_WEBHOOK_KEY}"))
	if p == nil {
		t.Fatalf("no plan:\n%s", diagText(ds))
	}
	if got, want := p.Paging.Webhook, "https://events.pagerduty.com/v2/enqueue?routing_key=K3Y-FR0M-ENV"; got != want {
		t.Errorf("Webhook = %q, want %q", got, want)
	}
	if p2, _ := Parse("p.yaml", webhookPlan("https://events.pagerduty.com/v2/enqueue?routing_key=${DRBOT_TEST_WEBHOOK_KEY}")); p2.Hash != p.Hash {
		t.Errorf("the hash depends on something besides the text")
	}
}

func TestLiteralCredentialWarning(t *testing.T) {
	tests := []struct {
		webhook string
		want    string // the warning; "" for none
	}{
		{"https://events.pagerduty.com/v2/enqueue?routing_key=0123456789abcdef0123456789abcdef",
			"paging.webhook contains a credential (routing_key=…); put it in an environment variable: routing_key=${DRBOT_PAGERDUTY_KEY}"},
		{"https://events.pagerduty.com/v2/enqueue?routing_key=${DRBOT_PAGERDUTY_KEY}", ""},
		{"https://events.eu.pagerduty.com/v2/enqueue?key=abc",
			"paging.webhook contains a credential (key=…); put it in an environment variable: key=${DRBOT_PAGERDUTY_KEY}"},
		{"https://hooks.example.com/page?Token=abc&x=1",
			"paging.webhook contains a credential (Token=…); put it in an environment variable: Token=${DRBOT_WEBHOOK_TOKEN}"},
		{"https://hooks.example.com/page?token=", ""},
		{"https://hooks.example.com/page?channel=ops&team=sre", ""},
		{"https://bot:hunter2@hooks.example.com/page",
			"paging.webhook contains a credential (a user name or password before the host); put it in an environment variable: https://${DRBOT_WEBHOOK_USER}:${DRBOT_WEBHOOK_PASSWORD}@hooks.example.com/…"},
		{"https://${U}:${P}@hooks.example.com/page", ""},
		{"https://hooks.slack.com/services/T0000000/B0000000/aB3dE5gH7jK9mN1pQ3rS5tU7",
			"paging.webhook contains a credential (a token in its path); put it in an environment variable: /${DRBOT_WEBHOOK_TOKEN}"},
		{"https://hooks.slack.com/services/T0000000/B0000000/${DRBOT_WEBHOOK_TOKEN}", ""},
		{"https://hooks.example.com/incident-notifications-2024/page", ""},
		{"https://hooks.example.com/v2/enqueue", ""},
	}
	for _, tt := range tests {
		t.Run(tt.webhook, func(t *testing.T) {
			env := fakeEnv(map[string]string{"DRBOT_PAGERDUTY_KEY": "k", "DRBOT_WEBHOOK_TOKEN": "t", "U": "u", "P": "p"})
			p, ds := ParseWith("p.yaml", webhookPlan(tt.webhook), Options{LookupEnv: env})
			if p == nil {
				t.Fatalf("no plan:\n%s", diagText(ds))
			}
			var want Diagnostics
			if tt.want != "" {
				want = Diagnostics{{File: "p.yaml", Line: 6, Col: 12, Severity: Warning, Message: tt.want}}
			}
			if diff := cmp.Diff(ds, want); diff != "" {
				t.Errorf("diagnostics (-got +want):\n%s", diff)
			}
		})
	}
}
