package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// The contact-list review. On review.schedule (or "/incident review"),
// each owner gets a direct message with the contacts, the roles and what
// looks wrong, and Confirm / Needs changes buttons. Each sending is a
// review notice, numbered: the first one, and each overdue reminder. The
// buttons carry the notice's number, so a press on an older notice's
// message is recognised. Unconfirmed overdue_after after a notice, the
// owners are reminded (a new notice) and review.channel is told.
//
// Checking the contacts asks the chat (users.info, users.lookupByEmail),
// which must not happen inside a transaction: the notice is an OutReview in
// the outbox, whose delivery checks, then enqueues the DMs
// (review_delivery.go); the DM is written in review_message.go.
//
// State, in the store's key/value table:
//
//	review/last_sent       reviewNotice: the latest notice
//	review/last_confirmed  ReviewConfirmation: who confirmed, when, which notice
//	review/history         []ReviewEvent, newest last, the latest maxReviewHistory

const (
	kvReviewSent      = "review/last_sent"
	kvReviewConfirmed = "review/last_confirmed"
	kvReviewHistory   = "review/history"

	// maxReviewHistory bounds the history kept: a quarterly review makes
	// a few lines a year; this is decades.
	maxReviewHistory = 200
	// reviewIncidentScan is how many recent real incidents are read to
	// find, for each role, the last one that paged it.
	reviewIncidentScan = 200

	reviewLane        = "review"
	reviewChannelLane = "review/channel"

	// ReviewNeeds is the word of "/incident review needs TEXT".
	ReviewNeeds = "needs"

	actReview        = "review"
	reviewConfirm    = "confirm"
	reviewNeedsPress = "changes"
)

// ReviewEventKind is what happened in a line of the review's history.
type ReviewEventKind string

// Kinds of ReviewEvent.
const (
	ReviewSent         ReviewEventKind = "sent"
	ReviewOverdue      ReviewEventKind = "overdue"
	ReviewConfirmed    ReviewEventKind = "confirmed"
	ReviewNeedsChanges ReviewEventKind = "needs_changes"
)

// ReviewConfirmation says who last confirmed the contact list, and when.
type ReviewConfirmation struct {
	By      string    `json:"by"`      // Slack member ID
	Contact string    `json:"contact"` // the plan's contact id of By, "" when not a contact
	At      time.Time `json:"at"`
	Notice  int       `json:"round"`
}

// ReviewEvent is one line of the review's history.
type ReviewEvent struct {
	At     time.Time       `json:"at"`
	Kind   ReviewEventKind `json:"kind"`
	By     string          `json:"by,omitempty"`
	Notice int             `json:"round,omitempty"`
	Text   string          `json:"text,omitempty"`
}

// reviewNotice is the latest notice of the review. (Its Notice and those
// of ReviewConfirmation and ReviewEvent are stored as round, the notice's
// earlier name.)
type reviewNotice struct {
	Notice  int       `json:"round"`
	At      time.Time `json:"at"`
	By      string    `json:"by,omitempty"`
	Owners  []string  `json:"owners"`
	Overdue bool      `json:"overdue,omitempty"`
	// Message is the review as delivered, for the update that marks it
	// confirmed; nil until its checks are done.
	Message *Message `json:"message,omitempty"`
}

// LastConfirmed reads who last confirmed the contact list; ok is false when
// nobody ever did. It reads the store only, so that a command may call it
// on a database opened read-only.
func LastConfirmed(ctx context.Context, st Store) (c ReviewConfirmation, ok bool, err error) {
	err = st.View(ctx, func(tx Tx) error {
		var err error
		ok, err = getJSON(tx, kvReviewConfirmed, &c)
		return err
	})
	if err != nil {
		return ReviewConfirmation{}, false, fmt.Errorf("read the last review confirmation: %w", err)
	}
	return c, ok, nil
}

// ReviewHistory reads the review's history, oldest first.
func ReviewHistory(ctx context.Context, st Store) ([]ReviewEvent, error) {
	var h []ReviewEvent
	err := st.View(ctx, func(tx Tx) error {
		_, err := getJSON(tx, kvReviewHistory, &h)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read the review history: %w", err)
	}
	return h, nil
}

func getJSON(tx Tx, key string, v any) (bool, error) {
	raw, ok, err := tx.Get(key)
	if err != nil || !ok || raw == "" {
		return false, err
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return false, fmt.Errorf("%s: %w", key, err)
	}
	return true, nil
}

// latestNotice reads the latest notice of the contact-list review; its zero
// value when none was sent.
func latestNotice(tx Tx) (reviewNotice, error) {
	var last reviewNotice
	_, err := getJSON(tx, kvReviewSent, &last)
	return last, err
}

func putJSON(tx Tx, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return tx.Put(key, string(b))
}

func addReviewEvent(tx Tx, e ReviewEvent) error {
	var h []ReviewEvent
	if _, err := getJSON(tx, kvReviewHistory, &h); err != nil {
		return err
	}
	h = append(h, e)
	if len(h) > maxReviewHistory {
		h = h[len(h)-maxReviewHistory:]
	}
	return putJSON(tx, kvReviewHistory, h)
}

func reviewRef(notice int, owner string) string {
	return "review/" + strconv.Itoa(notice) + "/" + owner
}

func reviewAction(verb string, notice int) string {
	return actReview + "|" + verb + "|" + strconv.Itoa(notice)
}

type reviewPress struct {
	verb   string
	notice int
}

func parseReviewAction(s string) (reviewPress, bool) {
	rest, ok := strings.CutPrefix(s, actReview+"|")
	if !ok {
		return reviewPress{}, false
	}
	verb, n, _ := strings.Cut(rest, "|")
	notice, err := strconv.Atoi(n)
	if err != nil || notice <= 0 || verb != reviewConfirm && verb != reviewNeedsPress {
		return reviewPress{}, false
	}
	return reviewPress{verb: verb, notice: notice}, true
}

// stamp is a date and time in the plan's time zone: "2026-11-20 09:14 CET".
func stamp(t time.Time, p *playbooks.Plan) string {
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// noReview is the answer when the plan has no review section.
func noReview() error {
	return Errorf(EINVALID, "The contact-list review is not set up yet: add a review: section (schedule, owners) to the plan.")
}

// review answers "/incident review" and "/incident review needs TEXT".
func (s *Engine) review(ctx context.Context, cmd Command, userID string) (Reply, error) {
	if cmd.Target == ReviewNeeds {
		return s.ReviewNeedsChanges(ctx, userID, cmd.Text)
	}
	p := s.Plan()
	if p.Review == nil {
		return Reply{}, noReview()
	}
	if err := s.SendReview(ctx, userID); err != nil {
		return Reply{}, err
	}
	var names []string
	for _, id := range p.Review.Owners {
		if c := p.Contacts[id]; c != nil {
			names = append(names, escape(c.Name))
		}
	}
	return Reply{Text: "Sent the contact-list review to " + andList(names) + "."}, nil
}

// SendReview sends the contact-list review reminder to the plan's review
// owners now, at userID's request ("/incident review").
func (s *Engine) SendReview(ctx context.Context, userID string) error {
	p := s.Plan()
	if p.Review == nil {
		return noReview()
	}
	err := s.updateEffects(ctx, func(tx Tx, done *effects) error {
		_, err := s.sendReviewTx(tx, p, s.now(), userID, false, done)
		return err
	})
	if err != nil {
		return fmt.Errorf("send the contact-list review: %w", err)
	}
	return nil
}

// sendReviewTx sends a new notice: an OutReview (its delivery checks the
// contacts and DMs the owners), the notice recorded, and the overdue
// reminder set overdue_after from now.
func (s *Engine) sendReviewTx(tx Tx, p *playbooks.Plan, now time.Time, by string, overdue bool, done *effects) (int, error) {
	last, err := latestNotice(tx)
	if err != nil {
		return 0, err
	}
	var owners []string
	for _, id := range p.Review.Owners {
		if p.Contacts[id] != nil && !slices.Contains(owners, id) {
			owners = append(owners, id)
		}
	}
	if len(owners) == 0 {
		return 0, Errorf(EINVALID, "The plan's review has no owners to send it to: list contacts under review: owners.")
	}
	notice := last.Notice + 1
	out := &Outgoing{Lane: reviewLane, Kind: OutReview, Body: OutBody{
		Review:  &ReviewBody{Notice: notice, Owners: owners, By: by, Overdue: overdue},
		Purpose: "check the contacts for the contact-list review",
	}}
	if err := tx.Enqueue(out); err != nil {
		return 0, fmt.Errorf("enqueue the review: %w", err)
	}
	if err := putJSON(tx, kvReviewSent, reviewNotice{Notice: notice, At: now, By: by, Owners: owners, Overdue: overdue}); err != nil {
		return 0, err
	}
	kind := ReviewSent
	if overdue {
		kind = ReviewOverdue
	}
	if err := addReviewEvent(tx, ReviewEvent{At: now, Kind: kind, By: by, Notice: notice}); err != nil {
		return 0, err
	}
	// Every notice, the overdue reminder among them, is followed up: the
	// owners are reminded every overdue_after until someone confirms.
	if p.Review.OverdueAfter > 0 {
		t := Timer{Key: overdueTimerKey, Kind: timerReviewOverdue, Due: now.Add(p.Review.OverdueAfter), Data: strconv.Itoa(notice)}
		if err := tx.SetTimer(t); err != nil {
			return 0, fmt.Errorf("set timer %s: %w", t.Key, err)
		}
	}
	done.changed = true
	done.after(func() {
		s.cfg.Logger.Info("contact-list review sent", "round", notice, "owners", owners, "by", by, "overdue", overdue)
	})
	return notice, nil
}

// reviewOverdue fires the overdue timer: unless the notice it follows was
// confirmed since, the owners are reminded (a new notice) and
// review.channel is told.
func (s *Engine) reviewOverdue(tx Tx, t Timer, now time.Time, done *effects) error {
	p := s.Plan()
	if p.Review == nil {
		return nil
	}
	notice, _ := strconv.Atoi(t.Data)
	var conf ReviewConfirmation
	if _, err := getJSON(tx, kvReviewConfirmed, &conf); err != nil {
		return err
	}
	if conf.Notice >= notice {
		return nil // confirmed since; the press deleted the timer, but be sure
	}
	last, err := latestNotice(tx)
	if err != nil {
		return err
	}
	if _, err := s.sendReviewTx(tx, p, now, "", true, done); err != nil {
		return err
	}
	if p.Review.Channel == "" {
		return nil
	}
	var names []string
	for _, id := range last.Owners {
		if c := p.Contacts[id]; c != nil {
			names = append(names, escape(c.Name))
		}
	}
	confirmed := "It has never been confirmed."
	if !conf.At.IsZero() {
		confirmed = fmt.Sprintf("It was last confirmed %s by %s.", stamp(conf.At, p), mention(conf.By))
	}
	text := fmt.Sprintf(":warning: *The contact-list review is overdue.* It was sent to %s on %s and nobody has confirmed it in %s. %s\n"+
		"%s: check the contacts and roles in drbot's direct message and press *Confirm*, or *Needs changes* to say what is wrong.",
		strings.Join(names, ", "), stamp(last.At, p), fmtDur(p.Review.OverdueAfter), confirmed, strings.Join(names, ", "))
	out := &Outgoing{Lane: reviewChannelLane, Kind: OutPost, Body: OutBody{
		Channel: p.Review.Channel, Message: &Message{Text: text},
		Purpose: "tell " + p.Review.Channel + " that the contact-list review is overdue",
	}}
	if err := tx.Enqueue(out); err != nil {
		return fmt.Errorf("enqueue the overdue notice: %w", err)
	}
	return nil
}

// pressReview handles the review's Confirm and Needs changes buttons.
func (s *Engine) pressReview(ctx context.Context, req PressRequest, a reviewPress) (Reply, error) {
	p := s.Plan()
	if a.verb == reviewNeedsPress {
		return Reply{
			Text:            "What needs to change? Type `/incident review needs TEXT`, for example `/incident review needs frank left; who replaces him as approver?`. It is recorded and passed on to whoever keeps the plan.",
			OpenReviewModal: true,
		}, nil
	}
	var reply Reply
	err := s.updateEffects(ctx, func(tx Tx, done *effects) error {
		now := s.now()
		last, err := latestNotice(tx)
		if err != nil {
			return err
		}
		var conf ReviewConfirmation
		if _, err := getJSON(tx, kvReviewConfirmed, &conf); err != nil {
			return err
		}
		switch {
		case a.notice < last.Notice:
			reply.Text = fmt.Sprintf("A newer contact-list review was sent on %s; confirm on that one, so that you confirm the list as it is now. Nothing was recorded.", stamp(last.At, p))
			return nil
		case a.notice > last.Notice:
			// Only a store that lost its state gets here.
			reply.Text = "drbot has no record of this contact-list review; type /incident review for a new one. Nothing was recorded."
			return nil
		case conf.Notice == a.notice:
			reply.Text = fmt.Sprintf("Already confirmed by %s at %s; nothing more to do.", mention(conf.By), stamp(conf.At, p))
			return nil
		}
		conf = ReviewConfirmation{By: req.UserID, At: now, Notice: a.notice}
		if c := contactOf(tx, p, req.UserID); c != nil {
			conf.Contact = c.ID
		}
		if err := putJSON(tx, kvReviewConfirmed, conf); err != nil {
			return err
		}
		if err := addReviewEvent(tx, ReviewEvent{At: now, Kind: ReviewConfirmed, By: req.UserID, Notice: a.notice}); err != nil {
			return err
		}
		if err := tx.DeleteTimer(overdueTimerKey); err != nil {
			return fmt.Errorf("delete timer %s: %w", overdueTimerKey, err)
		}
		// Every owner's copy turns into who confirmed it and when.
		m := Message{Text: "*Contact-list review*"}
		if last.Message != nil {
			m = confirmedReview(*last.Message)
		}
		m.Context = fmt.Sprintf(":white_check_mark: Confirmed by %s at %s.", mention(req.UserID), stamp(now, p))
		for _, owner := range last.Owners {
			out := &Outgoing{Lane: dmLane(owner), Kind: OutUpdate, Body: OutBody{
				Message: &m, UpdateRef: reviewRef(a.notice, owner), Purpose: "mark the contact-list review confirmed",
			}}
			if err := tx.Enqueue(out); err != nil {
				return fmt.Errorf("enqueue the review update: %w", err)
			}
		}
		done.changed = true
		done.after(func() {
			s.cfg.Logger.Info("contact list confirmed", "by", req.UserID, "contact", conf.Contact, "round", a.notice)
		})
		reply.Text = fmt.Sprintf("Thank you: the contact list is confirmed, by you at %s.", stamp(now, p))
		if next, ok := reviewNext(p, now); ok {
			reply.Text += fmt.Sprintf(" The next review is due %s.", stamp(next, p))
		}
		return nil
	})
	if err != nil {
		return Reply{}, fmt.Errorf("confirm the contact-list review: %w", err)
	}
	return reply, nil
}

// reviewNext is when the review is next sent on schedule.
func reviewNext(p *playbooks.Plan, now time.Time) (time.Time, bool) {
	if p.Review == nil {
		return time.Time{}, false
	}
	t, err := scheduleSpec{Spec: p.Review.Schedule, TZ: planZone(p)}.next(now)
	return t, err == nil && !t.IsZero()
}

// ReviewNeedsChanges records, at userID's word, what needs to change in
// the contact list: in the review's history, in the log, and in
// review.channel when the plan has one ("/incident review needs TEXT", or
// the dialog of the review's Needs changes button).
func (s *Engine) ReviewNeedsChanges(ctx context.Context, userID, text string) (Reply, error) {
	p := s.Plan()
	if p.Review == nil {
		return Reply{}, noReview()
	}
	text = strings.TrimSpace(cleanText(text))
	if text == "" {
		return Reply{}, Errorf(EINVALID, "Say what needs to change: /incident review needs TEXT")
	}
	if err := checkLength("note", text); err != nil {
		return Reply{}, err
	}
	err := s.updateEffects(ctx, func(tx Tx, done *effects) error {
		now := s.now()
		last, err := latestNotice(tx)
		if err != nil {
			return err
		}
		if err := addReviewEvent(tx, ReviewEvent{At: now, Kind: ReviewNeedsChanges, By: userID, Notice: last.Notice, Text: text}); err != nil {
			return err
		}
		if p.Review.Channel != "" {
			out := &Outgoing{Lane: reviewChannelLane, Kind: OutPost, Body: OutBody{
				Channel: p.Review.Channel,
				Message: &Message{Text: fmt.Sprintf(":memo: *The contact list needs changes*, says %s:\n>%s\nWhoever keeps the plan: fix it and reload drbot; the review owners then confirm it.",
					mention(userID), strings.ReplaceAll(escape(text), "\n", "\n>"))},
				Purpose: "tell " + p.Review.Channel + " that the contact list needs changes",
			}}
			if err := tx.Enqueue(out); err != nil {
				return fmt.Errorf("enqueue the review note: %w", err)
			}
			done.changed = true
		}
		done.after(func() {
			s.cfg.Logger.Info("contact list needs changes", "by", userID, "round", last.Notice, "note", text)
		})
		return nil
	})
	if err != nil {
		return Reply{}, fmt.Errorf("record what the contact list needs: %w", err)
	}
	if p.Review.Channel != "" {
		return Reply{Text: fmt.Sprintf("Noted, and posted in #%s for whoever keeps the plan. Once it is fixed and drbot reloaded, press Confirm on the review.", escape(strings.TrimPrefix(p.Review.Channel, "#")))}, nil
	}
	return Reply{Text: "Noted in the review's history and drbot's log. The plan has no review channel, so tell whoever keeps the plan too; once it is fixed and drbot reloaded, press Confirm on the review."}, nil
}
