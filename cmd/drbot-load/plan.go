package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// loadPlan is the plan a phase runs with, and what the load needs to know
// of it.
type loadPlan struct {
	YAML       string
	AckTimeout time.Duration
	Rounds     int
	// Contacts maps a contact id to its Slack member ID.
	Contacts map[string]string
	// Users are the Slack member IDs, in contact order.
	Users []string
	// Scenarios are the scenario ids, in order; Roles their page roles.
	Scenarios []string
	Roles     map[string][]string
}

// generatePlan writes a plan of c.Scenarios scenarios, each paging three
// roles of its own (lead, ops, comms) made of c.ContactsPerRole contacts
// drawn, with the seed, from c.Contacts people (or as --team says:
// roleContacts). Roles are not shared between scenarios, so a storm
// spreads its pages over many people as a real plan would; a person may
// still be in several roles and get several pages, which drbot bundles in
// one message when they wait together.
func generatePlan(c Config, ackTimeout time.Duration) loadPlan {
	rng := rand.New(rand.NewPCG(uint64(c.Seed), 0x706c616e)) // "plan"
	p := loadPlan{AckTimeout: ackTimeout, Rounds: c.Rounds, Contacts: map[string]string{}, Roles: map[string][]string{}}
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nname: drbot-load generated plan (seed %d)\ncontacts:\n", c.Seed)
	for i := 1; i <= c.Contacts; i++ {
		id, user := fmt.Sprintf("c%04d", i), fmt.Sprintf("ULOAD%04d", i)
		p.Contacts[id] = user
		p.Users = append(p.Users, user)
		fmt.Fprintf(&b, "  %s: {name: Load Contact %d, slack: %s, phone: \"+47 400 %05d\"}\n", id, i, user, i)
	}
	b.WriteString("roles:\n")
	kinds := []string{"lead", "ops", "comms"}
	for s := 1; s <= c.Scenarios; s++ {
		sc := fmt.Sprintf("load-%02d", s)
		p.Scenarios = append(p.Scenarios, sc)
		for k := range kinds {
			role := fmt.Sprintf("s%02d-%s", s, kinds[k])
			p.Roles[sc] = append(p.Roles[sc], role)
			ids := roleContacts(c, rng, s, k)
			fmt.Fprintf(&b, "  %s: [%s]\n", role, strings.Join(ids, ", "))
		}
	}
	fmt.Fprintf(&b, "paging:\n  ack_timeout: %s\n  rounds: %d\n", durationYAML(ackTimeout), c.Rounds)
	b.WriteString("services:\n")
	for s := 1; s <= c.Scenarios; s++ {
		fmt.Fprintf(&b, "  svc-%02d: {rto: 4h, rpo: 15m}\n", s)
	}
	b.WriteString("scenarios:\n")
	for s, sc := range p.Scenarios {
		fmt.Fprintf(&b, "  %s:\n    title: Load scenario %d\n    service: svc-%02d\n    severity: sev2\n    page: [%s]\n",
			sc, s+1, s+1, strings.Join(p.Roles[sc], ", "))
		b.WriteString("    steps:\n")
		b.WriteString("      - {id: assess, do: Look at the dashboards., estimate: 10m}\n")
		b.WriteString("      - {id: fix, do: Roll back the last deploy., estimate: 20m}\n")
	}
	p.YAML = b.String()
	return p
}

// roleContacts returns the contact ids of the role of kind k (0..2) of
// scenario s (1..): drawn at random (--team random), the next ones of
// their own (distinct), or the same for every scenario (shared: one
// on-call team, whose people get the pages of every incident at once).
func roleContacts(c Config, rng *rand.Rand, s, k int) []string {
	ids := make([]string, c.ContactsPerRole)
	for i := range ids {
		var n int
		switch c.Team {
		case "distinct":
			n = ((s-1)*3+k)*c.ContactsPerRole + i
		case "shared":
			n = k*c.ContactsPerRole + i
		}
		ids[i] = fmt.Sprintf("c%04d", n%c.Contacts+1)
	}
	if c.Team == "random" || c.Team == "" {
		for i, n := range rng.Perm(c.Contacts)[:c.ContactsPerRole] {
			ids[i] = fmt.Sprintf("c%04d", n+1)
		}
	}
	return ids
}

// durationYAML writes d in the plan's duration syntax, whole seconds.
func durationYAML(d time.Duration) string {
	return fmt.Sprintf("%ds", int64(d.Round(time.Second)/time.Second))
}
