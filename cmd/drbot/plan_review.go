package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
	"github.com/drbot-dev/drbot/storage/postgres"
)

// contactsStatus is when the contact list was last confirmed (the review's
// Confirm button), as "drbot plan check" reports it. Its JSON is part of
// the check's output: add fields, never rename them.
type contactsStatus struct {
	Confirmed bool   `json:"confirmed"`
	At        string `json:"at,omitempty"`      // RFC 3339, UTC
	By        string `json:"by,omitempty"`      // Slack member ID
	Contact   string `json:"contact,omitempty"` // the plan's contact id, when By is one
	Name      string `json:"name,omitempty"`    // the contact's name in the plan
	text      string
}

// readContactsStatus reads when the contacts were last confirmed from the
// database at path, opened read-only. With no database there is nothing
// to say: nil, nil. Times are shown in the plan's timezone (UTC without a
// plan).
func readContactsStatus(ctx context.Context, path string, plan *playbooks.Plan) (*contactsStatus, error) {
	if !postgres.IsURL(path) {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
	}
	st, err := openDatabase(ctx, path, nil, true)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	s, err := contactsStatusOf(ctx, st, plan)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", st.name, err)
	}
	return s, nil
}

// contactsStatusOf reads when the contacts were last confirmed from an
// open store.
func contactsStatusOf(ctx context.Context, st incident.Store, plan *playbooks.Plan) (*contactsStatus, error) {
	c, ok, err := incident.LastConfirmed(ctx, st)
	if err != nil {
		return nil, err
	}
	if !ok {
		return &contactsStatus{text: "Contacts never confirmed"}, nil
	}
	s := &contactsStatus{Confirmed: true, At: c.At.UTC().Format(time.RFC3339), By: c.By}
	loc := time.UTC
	var ct *playbooks.Contact
	if plan != nil {
		if plan.Location != nil {
			loc = plan.Location
		}
		if ct = plan.Contacts[c.Contact]; ct == nil && c.By != "" {
			ct = plan.ContactBySlack(c.By)
		}
	}
	who := c.By
	if ct != nil {
		s.Contact, s.Name = ct.ID, ct.Name
		who = ct.Name
	}
	s.text = fmt.Sprintf("Contacts last confirmed %s by %s", c.At.In(loc).Format("2006-01-02 15:04 MST"), who)
	return s, nil
}
