package incident

import (
	"context"
	"fmt"
	"strings"
)

// The channel Slack gave. An incident asks for inc-N-SCENARIO, and Slack
// may answer name_taken (an archived channel keeps its name, a database
// restored from a backup numbers incidents again): the channel then gets
// a suffix (inc-1-api-down-2). Messages written before the channel
// existed name the channel asked for; each is sent naming the channel
// Slack gave (namedChannel). Channels are created before the other
// messages of a delivery pass go (Deliver), so that the first pages,
// sent at once, already know it. The conversation where the incident was
// declared, whose reply named the channel asked for, is told the real
// name (channelRenamed).

// requestedChannel is the channel name the incident asked Slack for.
func requestedChannel(inc *Incident) string {
	return channelName(inc.Drill, inc.ID, inc.Scenario)
}

// namedChannel returns m naming the channel Slack gave wherever it names
// the one asked for ("#inc-1-api-down" as a whole name, not the start of
// "#inc-1-api-down-3").
func namedChannel(m Message, inc *Incident) Message {
	if inc == nil || inc.ChannelID == "" {
		return m
	}
	asked := requestedChannel(inc)
	if inc.ChannelName == asked || inc.ChannelName == "" {
		return m
	}
	m.Text = replaceChannel(m.Text, asked, inc.ChannelName)
	m.Context = replaceChannel(m.Context, asked, inc.ChannelName)
	if len(m.Fields) > 0 {
		fields := make([]Field, len(m.Fields))
		for i, f := range m.Fields {
			fields[i] = Field{Label: f.Label, Value: replaceChannel(f.Value, asked, inc.ChannelName)}
		}
		m.Fields = fields
	}
	return m
}

// replaceChannel replaces "#from" by "#to" where from is the whole name.
func replaceChannel(s, from, to string) string {
	old := "#" + from
	if !strings.Contains(s, old) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, old)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(old)
		b.WriteString(s[:i])
		if end < len(s) && isChannelNameByte(s[end]) {
			b.WriteString(old)
		} else {
			b.WriteString("#" + to)
		}
		s = s[end:]
	}
}

func isChannelNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// channelRenamed tells the conversation where the incident was declared
// the name Slack gave its channel, when it is not the one asked for (the
// reply there named that one).
func channelRenamed(tx Tx, inc *Incident) error {
	asked := requestedChannel(inc)
	if inc.DeclaredIn == "" || inc.ChannelName == asked {
		return nil
	}
	kind := "incident"
	if inc.Drill {
		kind = "drill"
	}
	// The name asked for is said without "#": namedChannel would make
	// it the new one.
	text := drillMark(inc, fmt.Sprintf("The channel of %s #%d is <#%s> (#%s): Slack had a channel named %s already.", kind, inc.ID, inc.ChannelID, inc.ChannelName, asked))
	return tx.Enqueue(&Outgoing{
		Lane: fmt.Sprintf("inc/%d", inc.ID), IncidentID: inc.ID, Kind: OutPost,
		Body: OutBody{Channel: inc.DeclaredIn, Message: &Message{Text: text}, Purpose: "name the incident channel where it was declared"},
	})
}

// DeclaredReply returns the answer to the declaration of incident id
// (what Command answered), and whether that answer is final: its channel
// exists, and the answer links the channel Slack gave; or Slack is holding
// channel creations back (a conversations.create answered 429 whose
// Retry-After has not passed: outbox_hold.go), so the channel is queued
// behind others and the answer names the one asked for at once. The
// channel follows when Slack creates it: everyone paged is invited, and
// the conversation where it was declared is told the name Slack gave
// when it is not the one asked for (channelRenamed). A surface that can
// wait a moment before answering (Slack's 3 s) asks until final.
func (s *Engine) DeclaredReply(ctx context.Context, id int64) (text string, final bool, err error) {
	// Asked again and again until final, on Slack's 3-second path: one
	// read for the incident and the earlier ones still open.
	var (
		inc    *Incident
		others []*Incident
	)
	err = s.cfg.Store.View(ctx, func(tx Tx) error {
		var err error
		if inc, err = tx.Incident(id); err != nil {
			return err
		}
		others, err = earlierOpen(tx, inc)
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("declared reply of incident %d: %w", id, err)
	}
	_, held := s.holds.held(OutCreateChannel, s.now())
	return declaredReply(inc) + s.alsoOpenText(inc, others), inc.ChannelID != "" || held, nil
}
