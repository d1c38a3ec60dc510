package incident

import (
	"context"
	"fmt"
	"slices"

	"github.com/drbot-dev/drbot/playbooks"
)

// Delivering a contact-list review notice (an OutReview): the contacts are
// checked with the chat, outside any transaction, then the owners' DMs are
// enqueued. The DM itself is written in review_message.go.

// contactCheck is what the chat said of one contact.
type contactCheck struct {
	user    string // Slack member ID: given, or found by email
	problem string // "" when nothing looks wrong
}

// checkContacts asks the chat about every contact of p. An error is one
// that may pass (rate limit, network): the whole review is tried again.
func (d *delivery) checkContacts(ctx context.Context, p *playbooks.Plan) (map[string]contactCheck, error) {
	chat, err := d.directory()
	if err != nil {
		return nil, err
	}
	out := map[string]contactCheck{}
	for _, id := range p.ContactOrder {
		c := p.Contacts[id]
		if c == nil {
			continue
		}
		var ck contactCheck
		ck.user = c.Slack
		if ck.user == "" {
			if c.Email == "" {
				ck.problem = "neither a Slack member ID nor an email; drbot cannot reach them"
				out[id] = ck
				continue
			}
			u, err := chat.LookupUserByEmail(ctx, c.Email)
			if err != nil {
				email := escape(c.Email)
				problem, ok := lookupProblem(err, lookupWording{
					notFound:    "no Slack account has the email " + email,
					deactivated: "the Slack account with the email " + email + " is deactivated",
					failed:      "could not look up " + email + " in Slack",
				})
				if !ok {
					return nil, fmt.Errorf("look up %s by email: %w", id, err)
				}
				ck.problem = problem
				out[id] = ck
				continue
			}
			ck.user = u
		}
		info, err := chat.LookupUser(ctx, ck.user)
		if err != nil {
			problem, ok := lookupProblem(err, lookupWording{
				notFound:    "Slack account " + escape(ck.user) + " not found",
				deactivated: "Slack account deactivated",
				failed:      "could not check the Slack account",
			})
			if !ok {
				return nil, fmt.Errorf("look up %s: %w", id, err)
			}
			ck.problem = problem
		} else if info.Deleted {
			ck.problem = "Slack account deactivated"
		}
		out[id] = ck
	}
	return out, nil
}

// lookupWording is how the review words a failed lookup of one contact:
// by email or by Slack member ID.
type lookupWording struct {
	notFound, deactivated string
	failed                string // followed by " (code)" for any other code
}

// lookupProblem turns a failed Slack user lookup into the problem the
// review reports, worded by w. ok is false for an error worth retrying
// (rate limit, network), which is no problem of the contact.
func lookupProblem(err error, w lookupWording) (problem string, ok bool) {
	code, reason, ok := chatReason(err)
	switch {
	case !ok:
		return "", false
	case reason == ReasonUserNotFound:
		return w.notFound, true
	case reason == ReasonUserDeactivated:
		return w.deactivated, true
	}
	return fmt.Sprintf("%s (%s)", w.failed, escape(code)), true
}

// unackedRole is a role nobody acknowledged in the last real incident
// that paged it.
type unackedRole struct {
	role  string
	inc   *Incident
	pages int
}

// unackedRoles reads, for each role of p, the last real (not drill)
// incident that paged it, and returns the roles nobody acknowledged
// there. An incident still paging the role is not judged yet. A person
// paged alone ("@id", /incident page @someone) is no role of p and is
// not counted: the review is about the roles' contact lists, and one
// unanswered direct page of someone perhaps off shift says little about
// them (the incident's postmortem names them).
func unackedRoles(tx Tx, p *playbooks.Plan) ([]unackedRole, error) {
	no := false
	incs, err := tx.Incidents(Filter{Drills: &no, Limit: reviewIncidentScan})
	if err != nil {
		return nil, fmt.Errorf("read recent incidents: %w", err)
	}
	judged := map[string]bool{}
	var out []unackedRole
	for _, inc := range incs {
		for _, rp := range inc.Roles {
			if judged[rp.Role] || rp.Sent == 0 || p.Roles[rp.Role] == nil {
				continue
			}
			if rp.paging() && inc.State == StateOpen {
				continue
			}
			judged[rp.Role] = true
			// A commander paged about another role that had answered
			// before, or that was no longer needed, did not fail to.
			if !rp.answered() && !rp.StoodDown {
				out = append(out, unackedRole{role: rp.Role, inc: inc, pages: rp.Sent - rp.CalloutStart})
			}
		}
	}
	// In the plan's order of roles.
	slices.SortFunc(out, func(a, b unackedRole) int {
		return slices.Index(p.RoleOrder, a.role) - slices.Index(p.RoleOrder, b.role)
	})
	return out, nil
}

// sendReview delivers an OutReview: it checks the contacts, then records
// the review DM of each owner in the outbox (their own lanes, retried
// like any DM) with the message kept for Confirm's update.
func (d *delivery) sendReview(ctx context.Context, o Outgoing) (sendResult, error) {
	var res sendResult
	rb := o.Body.Review
	if rb == nil || rb.Notice <= 0 {
		return res, &badMessage{reason: "review without a round"}
	}
	p := d.s.Plan()
	if p.Review == nil {
		return res, &badMessage{reason: "the plan has no review section any more", quiet: true}
	}
	var (
		conf    ReviewConfirmation
		last    reviewNotice
		unacked []unackedRole
	)
	err := d.s.cfg.Store.View(ctx, func(tx Tx) error {
		if _, err := getJSON(tx, kvReviewConfirmed, &conf); err != nil {
			return err
		}
		if _, err := getJSON(tx, kvReviewSent, &last); err != nil {
			return err
		}
		var err error
		unacked, err = unackedRoles(tx, p)
		return err
	})
	if err != nil {
		return res, &storeError{err}
	}
	checks, err := d.checkContacts(ctx, p)
	if err != nil {
		return res, err
	}
	sentAt := d.s.now()
	if last.Notice == rb.Notice {
		sentAt = last.At
	}
	m := reviewMessage(p, rb, checks, unacked, conf, sentAt)
	res.record = append(res.record, func(tx Tx) error {
		last, err := latestNotice(tx)
		if err != nil {
			return err
		}
		if last.Notice != rb.Notice {
			// A newer notice is on its way: this one's buttons would be
			// stale before anyone saw them.
			d.log.Info("contact-list review superseded before it was sent", "round", rb.Notice, "newest", last.Notice)
			return nil
		}
		last.Message = &m
		if err := putJSON(tx, kvReviewSent, last); err != nil {
			return err
		}
		for _, owner := range rb.Owners {
			if p.Contacts[owner] == nil {
				d.log.Warn("review owner is not a contact of the plan any more", "owner", owner)
				continue
			}
			out := &Outgoing{Lane: dmLane(owner), Kind: OutDM, Body: OutBody{
				Contact: owner, Message: &m, Ref: reviewRef(rb.Notice, owner),
				Purpose: "send the contact-list review to " + owner,
			}}
			if err := tx.Enqueue(out); err != nil {
				return fmt.Errorf("enqueue the review DM to %s: %w", owner, err)
			}
		}
		return nil
	})
	return res, nil
}
