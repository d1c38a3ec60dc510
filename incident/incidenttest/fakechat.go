package incidenttest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drbot-dev/drbot/incident"
)

// Method names recorded in Call.Method and accepted by FakeChat.FailNext:
// the names of the methods of incident.Chat, Directory and Webhooks.
const (
	MethodCreateChannel     = "CreateChannel"
	MethodInvite            = "Invite"
	MethodSetTopic          = "SetTopic"
	MethodPost              = "Post"
	MethodDM                = "DM"
	MethodUpdate            = "Update"
	MethodPin               = "Pin"
	MethodEphemeral         = "Ephemeral"
	MethodLookupUserByEmail = "LookupUserByEmail"
	MethodLookupUser        = "LookupUser"
	MethodWebhook           = "Webhook"
)

// Call is one call made on a FakeChat, successful or not.
type Call struct {
	Method  string
	Channel string   // channel id the call acted on; for DM the DM channel ("D"+user)
	User    string   // DM, Ephemeral, or the result of LookupUserByEmail
	Users   []string // Invite
	Name    string   // CreateChannel: the name asked for
	Topic   string   // SetTopic
	Message *incident.Message
	TS      string // the ts posted (Post, DM) or acted on (Update, Pin)
	Email   string // LookupUserByEmail
	URL     string // Webhook
	Body    []byte // Webhook
	Err     error  // what the call returned
}

// Posted is a message as it stands in a conversation: updates replace it.
type Posted struct {
	TS      string
	Message incident.Message
}

type failure struct {
	left int
	err  error
}

// FakeChat is an incident.Chat that records every call and keeps the
// conversations as a user would see them. It can be told to fail calls.
// It is safe for concurrent use.
type FakeChat struct {
	mu sync.Mutex

	// Emails maps email addresses to Slack member IDs for
	// LookupUserByEmail. Set it before use, or use SetEmail.
	Emails map[string]string
	// Users answers LookupUser. Set it before use, or use SetUser.
	Users map[string]incident.UserInfo

	calls    []Call
	fails    map[string][]*failure
	delays   map[string]time.Duration
	onCall   func(method string)
	nextChan int
	nextTS   int
	names    map[string]string // channel name -> id
	convs    map[string][]Posted
	eph      map[string][]incident.Message // user -> ephemeral messages
	members  map[string][]string
	topics   map[string]string
	pins     map[string][]string
}

var (
	_ incident.Chat      = (*FakeChat)(nil)
	_ incident.Directory = (*FakeChat)(nil)
	_ incident.Webhooks  = (*FakeChat)(nil)
)

// NewFakeChat returns an empty FakeChat.
func NewFakeChat() *FakeChat {
	return &FakeChat{
		Emails:  map[string]string{},
		Users:   map[string]incident.UserInfo{},
		fails:   map[string][]*failure{},
		delays:  map[string]time.Duration{},
		names:   map[string]string{},
		convs:   map[string][]Posted{},
		eph:     map[string][]incident.Message{},
		members: map[string][]string{},
		topics:  map[string]string{},
		pins:    map[string][]string{},
	}
}

// SetEmail makes LookupUserByEmail(email) return userID.
func (f *FakeChat) SetEmail(email, userID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Emails == nil {
		f.Emails = map[string]string{}
	}
	f.Emails[email] = userID
}

// SetUser makes LookupUser(u.ID) return u; u.Deleted marks a deactivated
// account.
func (f *FakeChat) SetUser(u incident.UserInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Users == nil {
		f.Users = map[string]incident.UserInfo{}
	}
	f.Users[u.ID] = u
}

// FailNext makes the next n calls of method (a Method* constant) fail with
// err, typically an *incident.ChatError such as
// &incident.ChatError{Code: "ratelimited", RetryAfter: 30} or
// &incident.ChatError{Code: "user_not_found", Permanent: true}, or a plain
// error for a network failure. A failed call changes nothing. Failures
// queued for the same method are used in the order they were queued.
func (f *FakeChat) FailNext(method string, n int, err error) {
	if n <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fails[method] = append(f.fails[method], &failure{left: n, err: err})
}

// SetDelay makes every later call of method take d before it answers
// (without holding the fake's lock), so that concurrent callers overlap as
// they would against Slack. Keep d to a few milliseconds.
func (f *FakeChat) SetDelay(method string, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delays[method] = d
}

// OnCall makes every later call run fn(method) before it answers (without
// holding the fake's lock): a test moves its Clock forward there, so that
// a call takes time on the engine's clock without sleeping, or does what
// happens while a call is in flight (a person presses a button).
func (f *FakeChat) OnCall(fn func(method string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onCall = fn
}

// wait runs the OnCall function and sleeps the delay set for method, if
// any.
func (f *FakeChat) wait(ctx context.Context, method string) {
	f.mu.Lock()
	d, fn := f.delays[method], f.onCall
	f.mu.Unlock()
	if fn != nil {
		fn(method)
	}
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// start begins call c: it waits (OnCall, the delay set for its method),
// then locks f, which the caller unlocks. A call set to fail is recorded
// with its error, which start returns, and f is left unlocked.
func (f *FakeChat) start(ctx context.Context, c Call) error {
	f.wait(ctx, c.Method)
	f.mu.Lock()
	if err := f.failure(c.Method); err != nil {
		c.Err = err
		f.record(c)
		f.mu.Unlock()
		return err
	}
	return nil
}

// failure returns the error a call of method must fail with, if any.
// Callers hold f.mu.
func (f *FakeChat) failure(method string) error {
	q := f.fails[method]
	if len(q) == 0 {
		return nil
	}
	err := q[0].err
	q[0].left--
	if q[0].left == 0 {
		f.fails[method] = q[1:]
	}
	return err
}

func (f *FakeChat) record(c Call) {
	if c.Message != nil {
		m := cloneMessage(*c.Message)
		c.Message = &m
	}
	c.Users = slices.Clone(c.Users)
	c.Body = slices.Clone(c.Body)
	f.calls = append(f.calls, c)
}

func cloneMessage(m incident.Message) incident.Message {
	m.Fields = slices.Clone(m.Fields)
	m.Buttons = slices.Clone(m.Buttons)
	return m
}

func (f *FakeChat) ts() string {
	f.nextTS++
	return fmt.Sprintf("1700000000.%06d", f.nextTS)
}

// CreateChannel creates a channel "C0001", "C0002" ...; a name already
// taken gets a suffix "-2", "-3" ..., as the Slack surface does.
func (f *FakeChat) CreateChannel(ctx context.Context, name string) (string, string, error) {
	if err := f.start(ctx, Call{Method: MethodCreateChannel, Name: name}); err != nil {
		return "", "", err
	}
	defer f.mu.Unlock()
	final := name
	for i := 2; f.names[final] != ""; i++ {
		final = fmt.Sprintf("%s-%d", name, i)
	}
	f.nextChan++
	id := fmt.Sprintf("C%04d", f.nextChan)
	f.names[final] = id
	f.record(Call{Method: MethodCreateChannel, Channel: id, Name: name})
	return id, final, nil
}

// Invite adds users to a channel's members.
func (f *FakeChat) Invite(ctx context.Context, channelID string, userIDs []string) error {
	c := Call{Method: MethodInvite, Channel: channelID, Users: userIDs}
	if err := f.start(ctx, c); err != nil {
		return err
	}
	defer f.mu.Unlock()
	for _, u := range userIDs {
		if !slices.Contains(f.members[channelID], u) {
			f.members[channelID] = append(f.members[channelID], u)
		}
	}
	f.record(c)
	return nil
}

// SetTopic sets a channel's topic.
func (f *FakeChat) SetTopic(ctx context.Context, channelID, topic string) error {
	c := Call{Method: MethodSetTopic, Channel: channelID, Topic: topic}
	if err := f.start(ctx, c); err != nil {
		return err
	}
	defer f.mu.Unlock()
	f.topics[channelID] = topic
	f.record(c)
	return nil
}

// Post posts m in a channel and returns its ts.
func (f *FakeChat) Post(ctx context.Context, channelID string, m incident.Message) (string, error) {
	c := Call{Method: MethodPost, Channel: channelID, Message: &m}
	if err := f.start(ctx, c); err != nil {
		return "", err
	}
	defer f.mu.Unlock()
	c.TS = f.ts()
	f.convs[channelID] = append(f.convs[channelID], Posted{TS: c.TS, Message: cloneMessage(m)})
	f.record(c)
	return c.TS, nil
}

// DMChannel is the id of the direct conversation FakeChat opens with a
// user.
func DMChannel(userID string) string { return "D" + userID }

// DM posts m in the direct conversation with userID, "D"+userID.
func (f *FakeChat) DM(ctx context.Context, userID string, m incident.Message) (string, string, error) {
	ch := DMChannel(userID)
	c := Call{Method: MethodDM, Channel: ch, User: userID, Message: &m}
	if err := f.start(ctx, c); err != nil {
		return "", "", err
	}
	defer f.mu.Unlock()
	c.TS = f.ts()
	f.convs[ch] = append(f.convs[ch], Posted{TS: c.TS, Message: cloneMessage(m)})
	f.record(c)
	return ch, c.TS, nil
}

// Update replaces the message ts in channelID. An unknown message fails
// permanently with message_not_found, as Slack does.
func (f *FakeChat) Update(ctx context.Context, channelID, ts string, m incident.Message) error {
	c := Call{Method: MethodUpdate, Channel: channelID, TS: ts, Message: &m}
	if err := f.start(ctx, c); err != nil {
		return err
	}
	defer f.mu.Unlock()
	conv := f.convs[channelID]
	i := slices.IndexFunc(conv, func(p Posted) bool { return p.TS == ts })
	if i < 0 {
		c.Err = &incident.ChatError{Method: "chat.update", Code: "message_not_found", Permanent: true}
		f.record(c)
		return c.Err
	}
	conv[i].Message = cloneMessage(m)
	f.record(c)
	return nil
}

// Pin pins the message ts in channelID.
func (f *FakeChat) Pin(ctx context.Context, channelID, ts string) error {
	c := Call{Method: MethodPin, Channel: channelID, TS: ts}
	if err := f.start(ctx, c); err != nil {
		return err
	}
	defer f.mu.Unlock()
	f.pins[channelID] = append(f.pins[channelID], ts)
	f.record(c)
	return nil
}

// Ephemeral shows m to userID only.
func (f *FakeChat) Ephemeral(ctx context.Context, channelID, userID string, m incident.Message) error {
	c := Call{Method: MethodEphemeral, Channel: channelID, User: userID, Message: &m}
	if err := f.start(ctx, c); err != nil {
		return err
	}
	defer f.mu.Unlock()
	f.eph[userID] = append(f.eph[userID], cloneMessage(m))
	f.record(c)
	return nil
}

// LookupUserByEmail answers from Emails; an unknown address fails
// permanently with users_not_found, as Slack does.
func (f *FakeChat) LookupUserByEmail(ctx context.Context, email string) (string, error) {
	c := Call{Method: MethodLookupUserByEmail, Email: email}
	if err := f.start(ctx, c); err != nil {
		return "", err
	}
	defer f.mu.Unlock()
	u, ok := f.Emails[email]
	if !ok {
		c.Err = &incident.ChatError{Method: "users.lookupByEmail", Code: "users_not_found", Permanent: true, Reason: incident.ReasonUserNotFound}
		f.record(c)
		return "", c.Err
	}
	c.User = u
	f.record(c)
	return u, nil
}

// LookupUser answers from Users; an unknown user fails permanently with
// user_not_found, as Slack's users.info does.
func (f *FakeChat) LookupUser(ctx context.Context, userID string) (incident.UserInfo, error) {
	c := Call{Method: MethodLookupUser, User: userID}
	if err := f.start(ctx, c); err != nil {
		return incident.UserInfo{}, err
	}
	defer f.mu.Unlock()
	u, ok := f.Users[userID]
	if !ok {
		c.Err = &incident.ChatError{Method: "users.info", Code: "user_not_found", Permanent: true, Reason: incident.ReasonUserNotFound}
		f.record(c)
		return incident.UserInfo{}, c.Err
	}
	f.record(c)
	return u, nil
}

// Webhook records the POST.
func (f *FakeChat) Webhook(ctx context.Context, url string, body []byte) error {
	c := Call{Method: MethodWebhook, URL: url, Body: body}
	if err := f.start(ctx, c); err != nil {
		return err
	}
	defer f.mu.Unlock()
	f.record(c)
	return nil
}

// --- queries

// Calls returns every call so far, in order, failed ones included.
func (f *FakeChat) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// CallsOf returns the calls of one method, in order.
func (f *FakeChat) CallsOf(method string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Posts returns the messages of a conversation (a channel id, or
// DMChannel(user)) in the order they were posted, as they stand after any
// updates.
func (f *FakeChat) Posts(channelID string) []incident.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	conv := f.convs[channelID]
	out := make([]incident.Message, len(conv))
	for i, p := range conv {
		out[i] = cloneMessage(p.Message)
	}
	return out
}

// Conversation is Posts with each message's ts.
func (f *FakeChat) Conversation(channelID string) []Posted {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.convs[channelID])
	for i := range out {
		out[i].Message = cloneMessage(out[i].Message)
	}
	return out
}

// DMs returns the direct messages sent to a user, as they stand.
func (f *FakeChat) DMs(userID string) []incident.Message {
	return f.Posts(DMChannel(userID))
}

// Ephemerals returns the ephemeral messages shown to a user.
func (f *FakeChat) Ephemerals(userID string) []incident.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]incident.Message, len(f.eph[userID]))
	for i, m := range f.eph[userID] {
		out[i] = cloneMessage(m)
	}
	return out
}

// LastButtons returns the buttons of the newest message of a conversation
// (a channel id, or DMChannel(user)) that has any, as it stands now; nil
// when none has.
func (f *FakeChat) LastButtons(channelID string) []incident.Button {
	f.mu.Lock()
	defer f.mu.Unlock()
	conv := f.convs[channelID]
	for i := len(conv) - 1; i >= 0; i-- {
		if len(conv[i].Message.Buttons) > 0 {
			return slices.Clone(conv[i].Message.Buttons)
		}
	}
	return nil
}

// FindButton returns the newest button labelled label in a conversation,
// as it stands now.
func (f *FakeChat) FindButton(channelID, label string) (incident.Button, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	conv := f.convs[channelID]
	for i := len(conv) - 1; i >= 0; i-- {
		bs := conv[i].Message.Buttons
		for j := len(bs) - 1; j >= 0; j-- {
			if bs[j].Label == label {
				return bs[j], true
			}
		}
	}
	return incident.Button{}, false
}

// ChannelID returns the id of a channel created under name (its final
// name), or "".
func (f *FakeChat) ChannelID(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.names[strings.TrimPrefix(name, "#")]
}

// Members returns the users invited to a channel, in order of invitation.
func (f *FakeChat) Members(channelID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.members[channelID])
}

// Topic returns a channel's topic.
func (f *FakeChat) Topic(channelID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.topics[channelID]
}

// Pins returns the ts of the messages pinned in a channel.
func (f *FakeChat) Pins(channelID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.pins[channelID])
}
