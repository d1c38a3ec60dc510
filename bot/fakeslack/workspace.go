package fakeslack

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// User is a member of the fake workspace.
type User struct {
	ID      string
	Email   string
	Name    string
	Deleted bool
}

// Channel is a conversation of the fake workspace.
type Channel struct {
	ID      string
	Name    string // "" for direct conversations
	IM      bool
	IMUser  string // the other party of a direct conversation
	Topic   string
	Members []string
	Created time.Time
	// Creator is who created the channel: BotUserID for the channels
	// drbot made with conversations.create.
	Creator string
	// Archived channels keep their name (conversations.create answers
	// name_taken) and are left out of conversations.list with
	// exclude_archived.
	Archived bool
}

type channel struct {
	Channel
	members  map[string]bool
	messages []*Message
}

// AddUser adds (or replaces) a member of the workspace.
func (s *Server) AddUser(id, email, name string, deleted bool) {
	s.mu.Lock()
	s.users[id] = &User{ID: id, Email: email, Name: name, Deleted: deleted}
	s.mu.Unlock()
	s.notify()
}

// AddChannel adds a public channel that exists before drbot starts,
// created by the workspace's owner (OwnerUserID).
func (s *Server) AddChannel(id, name string) {
	s.AddChannelBy(id, name, OwnerUserID)
}

// AddChannelBy adds a public channel created by creator: BotUserID for one
// an earlier drbot process created.
func (s *Server) AddChannelBy(id, name, creator string) {
	s.mu.Lock()
	s.addChannelLocked(id, name, creator)
	s.mu.Unlock()
	s.notify()
}

// SetTopic sets a channel's topic as a person would.
func (s *Server) SetTopic(id, topic string) error {
	s.mu.Lock()
	defer s.notify()
	defer s.mu.Unlock()
	ch := s.channels[id]
	if ch == nil {
		return fmt.Errorf("fakeslack: no channel %s", id)
	}
	ch.Topic = topic
	return nil
}

// ArchiveChannel archives a channel.
func (s *Server) ArchiveChannel(id string) error {
	s.mu.Lock()
	defer s.notify()
	defer s.mu.Unlock()
	ch := s.channels[id]
	if ch == nil || ch.IM {
		return fmt.Errorf("fakeslack: no channel %s", id)
	}
	ch.Archived = true
	return nil
}

func (s *Server) addChannelLocked(id, name, creator string) *channel {
	ch := &channel{Channel: Channel{ID: id, Name: name, Created: s.now(), Creator: creator}, members: map[string]bool{BotUserID: true}}
	s.channels[id] = ch
	if name != "" {
		s.byName[name] = id
	}
	return ch
}

// PostUserMessage posts a message as a person (not the bot), for tests of
// pins and reactions; it returns the message's ts.
func (s *Server) PostUserMessage(channelID, userID, text string) (string, error) {
	s.mu.Lock()
	defer s.notify()
	defer s.mu.Unlock()
	ch := s.channels[channelID]
	if ch == nil {
		return "", fmt.Errorf("fakeslack: no channel %s", channelID)
	}
	m := &Message{Channel: channelID, TS: s.tsLocked(), User: userID, Text: text}
	ch.messages = append(ch.messages, m)
	return m.TS, nil
}

// Channel returns a conversation by id, by name (with or without "#"),
// or, for a user id, the user's direct conversation with the bot.
func (s *Server) Channel(conv string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.resolveLocked(conv)
	if ch == nil {
		return Channel{}, false
	}
	out := ch.Channel
	out.Members = sortedKeys(ch.members)
	return out, true
}

// Channels returns every conversation, ordered by id.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Channel
	for _, ch := range s.channels {
		c := ch.Channel
		c.Members = sortedKeys(ch.members)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Messages returns the messages of a conversation (see Channel for conv),
// oldest first, as they stand.
func (s *Server) Messages(conv string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.resolveLocked(conv)
	if ch == nil {
		return nil
	}
	out := make([]Message, 0, len(ch.messages))
	for _, m := range ch.messages {
		out = append(out, *m)
	}
	return out
}

// Ephemerals returns the ephemeral messages posted so far, oldest first.
func (s *Server) Ephemerals() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.ephemeral))
	for _, m := range s.ephemeral {
		out = append(out, *m)
	}
	return out
}

// Views returns the views opened with views.open, oldest first.
func (s *Server) Views() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.views)
}

func (s *Server) resolveLocked(conv string) *channel {
	if ch := s.channels[conv]; ch != nil {
		return ch
	}
	if id, ok := s.byName[strings.TrimPrefix(conv, "#")]; ok {
		return s.channels[id]
	}
	if id, ok := s.ims[strings.TrimPrefix(conv, "@")]; ok {
		return s.channels[id]
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// tsLocked returns a new message timestamp, later than every one before.
func (s *Server) tsLocked() string {
	us := s.now().UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

func (s *Server) idLocked(prefix string) string {
	s.nextID++
	return fmt.Sprintf("%s%08d", prefix, s.nextID)
}

func userJSON(u *User) map[string]any {
	return map[string]any{
		"id": u.ID, "team_id": TeamID, "name": u.Name, "deleted": u.Deleted, "real_name": u.Name,
		"profile": map[string]any{"email": u.Email, "real_name": u.Name, "display_name": u.Name},
	}
}

func channelJSON(ch *channel) map[string]any {
	m := map[string]any{
		"id": ch.ID, "created": ch.Created.Unix(), "is_im": ch.IM,
		"is_channel": !ch.IM, "is_member": true, "is_archived": ch.Archived,
	}
	if ch.IM {
		m["user"] = ch.IMUser
	} else {
		m["name"] = ch.Name
		m["name_normalized"] = ch.Name
		m["creator"] = ch.Creator
		m["topic"] = map[string]any{"value": ch.Topic}
	}
	return m
}
