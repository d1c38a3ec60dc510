package playbooks

import (
	"fmt"
	"net/mail"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Decoding the people of a plan: contacts:, roles: (escalation order) and
// paging: (how long a page waits for an acknowledgement, how many times
// the roles are paged over).

func (p *parser) decodeContacts(f field) {
	fs, _ := p.pairs(f.val, "contacts")
	bySlack := map[string]*yaml.Node{}
	for _, e := range fs {
		id := e.name()
		p.checkID(e.key, "contact")
		what := fmt.Sprintf("contact %q", id)
		c := &Contact{ID: id}
		// Known even when its body is wrong, so that references to it do
		// not add "undefined" errors to the one that matters.
		p.plan.Contacts[id] = c
		p.plan.ContactOrder = append(p.plan.ContactOrder, id)
		p.contactKey[id] = e.key
		m := p.object(e.val, what, contactKeys)
		if m == nil {
			continue
		}
		p.require(e.key, m, what, "name")
		if v, ok := m["name"]; ok {
			c.Name, _ = p.text(v)
		}
		if v, ok := m["slack"]; ok {
			if s, ok := p.text(v); ok {
				switch first, dup := bySlack[s]; {
				case !slackPattern.MatchString(s):
					p.errorf(v.val, "slack: %q is not a Slack member ID: copy it from the person's Slack profile (⋮ → Copy member ID); it looks like U0123ABCD", s)
				case dup:
					p.errorf(v.val, "slack: %s is also the Slack member ID of the contact at line %d", s, first.Line)
				default:
					bySlack[s] = e.key
					c.Slack = s
				}
			}
		}
		if v, ok := m["email"]; ok {
			if s, ok := p.text(v); ok {
				if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
					p.errorf(v.val, "email: %q is not an email address such as frank@example.com", s)
				} else {
					c.Email = s
				}
			}
		}
		_, hasSlack := m["slack"]
		_, hasEmail := m["email"]
		if !hasSlack && !hasEmail {
			p.errorf(e.key, "%s has neither slack nor email, so drbot cannot reach them: add slack: (their Slack member ID) or email:", what)
		}
		if v, ok := m["phone"]; ok {
			c.Phone, _ = p.scalar(v.name(), v.val)
		}
	}
}

func (p *parser) decodeRoles(f field) {
	fs, _ := p.pairs(f.val, "roles")
	for _, e := range fs {
		role := e.name()
		p.checkID(e.key, "role")
		where := fmt.Sprintf("role %q", role)
		ids := p.refList(e, "contact", where)
		switch len(ids) {
		case 0:
			if n := deref(e.val); n.Kind == yaml.SequenceNode {
				p.errorf(e.key, "%s has no contacts: list who to page, in escalation order", where)
			}
		case 1:
			p.warnf(e.key, "%s has a single contact (%s), so nobody is paged when they do not answer: add a second contact", where, ids[0].Value)
		}
		p.plan.Roles[role] = values(ids)
		p.plan.RoleOrder = append(p.plan.RoleOrder, role)
	}
}

// checkContactsInRoles warns about contacts nobody can page.
func (p *parser) checkContactsInRoles() {
	inRole := map[string]bool{}
	for _, ids := range p.plan.Roles {
		for _, id := range ids {
			inRole[id] = true
		}
	}
	for _, id := range p.plan.ContactOrder {
		if !inRole[id] {
			p.warnf(p.contactKey[id], "contact %q is in no role, so no incident pages them: add them to a role or remove them", id)
		}
	}
}

func (p *parser) decodePaging(f field) {
	m := p.object(f.val, "paging", pagingKeys)
	if v, ok := m["ack_timeout"]; ok {
		if d, ok := p.duration(v, false); ok {
			p.plan.Paging.AckTimeout = d
		}
	}
	if v, ok := m["rounds"]; ok {
		if s, ok := p.text(v); ok {
			if n, err := strconv.Atoi(s); err != nil || n < 1 {
				p.errorf(v.val, "rounds: want a whole number of at least 1, got %s", s)
			} else {
				p.plan.Paging.Rounds = n
			}
		}
	}
	if v, ok := m["webhook"]; ok {
		p.webhook(v)
	}
}
