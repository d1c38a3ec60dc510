package incident

import (
	"context"
	"strconv"
	"strings"
)

// Button actions. A button carries everything needed to tell a current
// press from a stale one: the incident, and for steps the index of the
// step record (the position of the StepRecord in Incident.Steps) and the approval request. The
// free-form part (role or step id) comes last so that it may hold any
// character.
//
//	ack|N|ROLE
//	VERB|N|INDEX|X|STEP  VERB one of done, skip, answer (X the answer's
//	                     index), approve, deny, reapprove (X the number of
//	                     the approval request)
//	review|VERB|NOTICE   the contact-list review's buttons (review.go)
const (
	actAck       = "ack"
	actDone      = "done"
	actSkip      = "skip"
	actAnswer    = "answer"
	actApprove   = "approve"
	actDeny      = "deny"
	actReapprove = "reapprove"
)

type action struct {
	verb     string
	incident int64
	role     string // ack
	step     string
	index    int
	x        int // answer index or approval request number
}

func ackAction(id int64, role string) string {
	return actAck + "|" + strconv.FormatInt(id, 10) + "|" + role
}

func stepAction(verb string, id int64, step string, index, x int) string {
	return verb + "|" + strconv.FormatInt(id, 10) + "|" + strconv.Itoa(index) + "|" + strconv.Itoa(x) + "|" + step
}

func parseAction(s string) (action, bool) {
	verb, rest, ok := strings.Cut(s, "|")
	if !ok {
		return action{}, false
	}
	switch verb {
	case actAck:
		n, role, ok := strings.Cut(rest, "|")
		id, err := strconv.ParseInt(n, 10, 64)
		if !ok || err != nil || id <= 0 || role == "" {
			return action{}, false
		}
		return action{verb: verb, incident: id, role: role}, true
	case actDone, actSkip, actAnswer, actApprove, actDeny, actReapprove:
		parts := strings.SplitN(rest, "|", 4)
		if len(parts) != 4 || parts[3] == "" {
			return action{}, false
		}
		id, err1 := strconv.ParseInt(parts[0], 10, 64)
		index, err2 := strconv.Atoi(parts[1])
		x, err3 := strconv.Atoi(parts[2])
		if err1 != nil || err2 != nil || err3 != nil || id <= 0 || index < 0 || x < 0 {
			return action{}, false
		}
		return action{verb: verb, incident: id, index: index, x: x, step: parts[3]}, true
	}
	return action{}, false
}

// Press handles a button press. A press that cannot act (a stale button,
// a step already ended, an incident resolved, someone not allowed) changes
// nothing but what it records and gets a Reply that says why.
func (s *Engine) Press(ctx context.Context, req PressRequest) (Reply, error) {
	if ra, ok := parseReviewAction(req.Action); ok {
		return s.pressReview(ctx, req, ra) // review.go: no incident
	}
	if aa, ok := parseAlertAction(req.Action); ok {
		return s.pressAlert(ctx, req, aa) // alert_ask.go
	}
	a, ok := parseAction(req.Action)
	if !ok {
		return Reply{}, Errorf(EINVALID, "This button is not one drbot knows (perhaps from an older version); nothing was done.")
	}
	var reply Reply
	err := s.update(ctx, a.incident, func(o *op) error {
		if o.inc.State != StateOpen {
			reply.Text = o.resolvedText()
			return nil
		}
		switch a.verb {
		case actAck:
			reply.Text = o.acknowledge(req.UserID, a.role)
		case actDone, actSkip, actAnswer:
			reply.Text = o.pressStep(req.UserID, a)
			if reply.Text == "" && a.verb == actDone {
				reply = o.askRecoveryPoint(a.step)
			}
		case actApprove, actDeny:
			reply = o.pressApproval(req, a)
		case actReapprove:
			reply.Text = o.pressReapprove(req.UserID, a)
		}
		return nil
	})
	if ErrorCode(err) == ENOTFOUND {
		return Reply{}, Errorf(ENOTFOUND, "Incident #%d does not exist (any more); nothing was done.", a.incident)
	}
	if err != nil {
		return Reply{}, err
	}
	return reply, nil
}
