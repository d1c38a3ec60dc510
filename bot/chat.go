package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/drbot-dev/drbot/bot/slacklimit"
	"github.com/drbot-dev/drbot/incident"
)

// ChatConfig is what a SlackChat is made from.
type ChatConfig struct {
	Token string // bot token, xoxb-...
	// AppToken (xapp-...) is needed only for Socket Mode.
	AppToken string
	// APIURL replaces Slack's API URL (tests point it at fakeslack); it
	// must end with "/".
	APIURL string
	// HTTPClient is used for every call; default one with a 15 s timeout.
	HTTPClient *http.Client
	Metrics    *Metrics     // optional
	Logger     *slog.Logger // default discards
}

// SlackChat is the incident.Chat of Slack: the outbox worker delivers
// through it, and the HTTP handlers use it for what they do after
// answering (modals, response_url posts, reading a pinned message).
//
// Every error it returns from a Web API call is an *incident.ChatError
// (permanent or not, with Retry-After), except network errors and
// timeouts, which are plain errors and mean "try again later".
type SlackChat struct {
	api     *slack.Client
	http    *http.Client
	metrics *Metrics
	log     *slog.Logger

	mu        sync.Mutex
	botUserID string // drbot's own member id, once auth.test told it
}

var (
	_ incident.Chat      = (*SlackChat)(nil)
	_ incident.Directory = (*SlackChat)(nil)
	_ incident.Webhooks  = (*SlackChat)(nil)
)

// NewSlackChat returns a SlackChat.
func NewSlackChat(cfg ChatConfig) *SlackChat {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := []slack.Option{slack.OptionHTTPClient(hc)}
	if cfg.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(cfg.APIURL))
	}
	if cfg.AppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(cfg.AppToken))
	}
	return &SlackChat{
		api:     slack.New(cfg.Token, opts...),
		http:    hc,
		metrics: cfg.Metrics,
		log:     log,
	}
}

// Client returns the underlying slack-go client.
func (c *SlackChat) Client() *slack.Client { return c.api }

// temporaryCodes are the Slack errors worth retrying. Every other
// ok:false answer (user_not_found, channel_not_found, not_in_channel,
// is_archived, invalid_auth, account_inactive, user_is_deactivated,
// invalid_blocks, missing_scope ...) is permanent: Slack answers ok:false
// when the request itself cannot succeed.
var temporaryCodes = map[string]bool{
	"ratelimited":         true,
	"rate_limited":        true,
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
	"team_added_to_org":   true,
}

// slackReasons are the Slack errors the engine acts on, as the reason it
// understands (incident.ChatReason); Slack's names stay in bot.
var slackReasons = map[string]incident.ChatReason{
	"user_not_found":      incident.ReasonUserNotFound,
	"users_not_found":     incident.ReasonUserNotFound,
	"account_inactive":    incident.ReasonUserDeactivated,
	"user_disabled":       incident.ReasonUserDeactivated,
	"user_is_deactivated": incident.ReasonUserDeactivated,
	"is_archived":         incident.ReasonChannelArchived,
}

// slackError is the ChatError of a Slack error code: permanent unless
// worth retrying, with the reason the engine acts on.
func slackError(method, code string) *incident.ChatError {
	return &incident.ChatError{Method: method, Code: code, Permanent: !temporaryCodes[code], Reason: slackReasons[code]}
}

// ignoredInviteCodes are per-user outcomes of conversations.invite that
// mean the user is (or needs not be) in the channel.
var ignoredInviteCodes = map[string]bool{
	"already_in_channel": true,
	"cant_invite_self":   true,
}

// chatError maps an error of the Slack client to what the outbox worker
// understands.
func chatError(method string, err error) error {
	if err == nil {
		return nil
	}
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var se slack.SlackErrorResponse
	var re *renderError
	switch {
	case errors.As(err, &rl):
		secs := int64(math.Ceil(rl.RetryAfter.Seconds()))
		if secs < 1 {
			secs = 1
		}
		return &incident.ChatError{Method: method, Code: "ratelimited", RetryAfter: secs}
	case errors.As(err, &sc):
		code := "http_" + strconv.Itoa(sc.Code)
		temporary := sc.Code >= 500 || sc.Code == http.StatusTooManyRequests || sc.Code == http.StatusRequestTimeout
		return &incident.ChatError{Method: method, Code: code, Permanent: !temporary}
	case errors.As(err, &se):
		return slackError(method, se.Err)
	case errors.As(err, &re):
		return &incident.ChatError{Method: method, Code: "invalid_blocks: " + re.msg, Permanent: true}
	}
	// Network errors, timeouts, a cancelled context: try again later.
	return fmt.Errorf("%s: %w", method, err)
}

// errorCode is the label of an error in drbot_slack_api_errors_total.
func errorCode(err error) string {
	var ce *incident.ChatError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ce):
		if strings.HasPrefix(ce.Code, "invalid_blocks") {
			return "invalid_blocks"
		}
		return ce.Code
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "timeout"
	}
	return "network"
}

// do runs one Web API call, counts it, and maps its error.
func (c *SlackChat) do(method string, call func() error) error {
	err := chatError(method, call())
	if c.metrics != nil {
		c.metrics.SlackCall(method, errorCode(err))
	}
	return err
}

// get is do for a call that returns a value.
func get[T any](c *SlackChat, method string, call func() (T, error)) (v T, err error) {
	err = c.do(method, func() error {
		var err error
		v, err = call()
		return err
	})
	return v, err
}

// AuthTest checks the token and returns the bot's own member id, which
// the chat keeps (BotUserID).
func (c *SlackChat) AuthTest(ctx context.Context) (userID string, err error) {
	err = c.do("auth.test", func() error {
		r, err := c.api.AuthTestContext(ctx)
		if err == nil {
			userID = r.UserID
		}
		return err
	})
	if err == nil && userID != "" {
		c.mu.Lock()
		c.botUserID = userID
		c.mu.Unlock()
	}
	return userID, err
}

// rememberBotUserID keeps drbot's own member id, known from elsewhere
// (serve's auth.test at start).
func (c *SlackChat) rememberBotUserID(id string) {
	c.mu.Lock()
	c.botUserID = id
	c.mu.Unlock()
}

// knownBotUserID is drbot's own member id if known, without asking Slack.
func (c *SlackChat) knownBotUserID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.botUserID
}

// BotUserID returns drbot's own member id: the one a successful AuthTest
// returned, or asks auth.test now.
func (c *SlackChat) BotUserID(ctx context.Context) (string, error) {
	c.mu.Lock()
	id := c.botUserID
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	id, err := c.AuthTest(ctx)
	if err == nil && id == "" {
		err = &incident.ChatError{Method: "auth.test", Code: "no_user_id"}
	}
	return id, err
}

// PostTo is Post that also returns the channel's id, which chat.update
// needs when the message was posted by name (incident.ChannelPoster).
func (c *SlackChat) PostTo(ctx context.Context, channel string, m incident.Message) (string, string, error) {
	return c.post(ctx, channel, m)
}

var _ incident.ChannelPoster = (*SlackChat)(nil)

// Post posts a message in a channel (an id, or a name for public
// channels) and returns its ts.
func (c *SlackChat) Post(ctx context.Context, channelID string, m incident.Message) (string, error) {
	_, ts, err := c.post(ctx, channelID, m)
	return ts, err
}

func (c *SlackChat) post(ctx context.Context, channelID string, m incident.Message) (string, string, error) {
	blocks, text, err := Render(m)
	if err != nil {
		return "", "", chatError("chat.postMessage", err)
	}
	var ch, ts string
	err = c.do("chat.postMessage", func() error {
		var err error
		ch, ts, err = c.api.PostMessageContext(ctx, channelID, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
		return err
	})
	return ch, ts, err
}

// DM posts a message in the direct conversation with a user and returns
// the conversation and the message's ts. It is one chat.postMessage with
// the member ID as the channel: Slack opens the app's direct conversation
// with them itself ("Post to a DM by passing the user's ID as channel",
// https://api.slack.com/methods/chat.postMessage#channels), so a page costs
// no conversations.open call (Tier 3) before it.
func (c *SlackChat) DM(ctx context.Context, userID string, m incident.Message) (string, string, error) {
	ch, ts, err := c.post(ctx, userID, m)
	if ce := (*incident.ChatError)(nil); errors.As(err, &ce) && ce.Code == "channel_not_found" {
		// Slack's answer when the member ID names nobody.
		named := *ce
		named.Code = "user_not_found"
		err = &named
	}
	if err != nil {
		return "", "", fmt.Errorf("DM %s: %w", userID, err)
	}
	return ch, ts, nil
}

// Update replaces a message drbot posted (a pressed button turns into who
// pressed it and when).
func (c *SlackChat) Update(ctx context.Context, channelID, ts string, m incident.Message) error {
	blocks, text, err := Render(m)
	if err != nil {
		return chatError("chat.update", err)
	}
	return c.do("chat.update", func() error {
		_, _, _, err := c.api.UpdateMessageContext(ctx, channelID, ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
		return err
	})
}

// Pin pins a message; a message already pinned is not an error.
func (c *SlackChat) Pin(ctx context.Context, channelID, ts string) error {
	err := c.do("pins.add", func() error {
		return c.api.AddPinContext(ctx, channelID, slack.NewRefToMessage(channelID, ts))
	})
	var ce *incident.ChatError
	if errors.As(err, &ce) && ce.Code == "already_pinned" {
		return nil
	}
	return err
}

// Ephemeral posts a message only userID sees, in channelID.
func (c *SlackChat) Ephemeral(ctx context.Context, channelID, userID string, m incident.Message) error {
	blocks, text, err := Render(m)
	if err != nil {
		return chatError("chat.postEphemeral", err)
	}
	return c.do("chat.postEphemeral", func() error {
		_, err := c.api.PostEphemeralContext(ctx, channelID, userID, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
		return err
	})
}

// LookupUserByEmail returns the member id of the user with that email. An
// unknown email (users_not_found) or a deactivated account is permanent.
func (c *SlackChat) LookupUserByEmail(ctx context.Context, email string) (string, error) {
	u, err := get(c, "users.lookupByEmail", func() (*slack.User, error) {
		return c.api.GetUserByEmailContext(ctx, email)
	})
	if err != nil {
		return "", fmt.Errorf("look up %s: %w", email, err)
	}
	if u.Deleted {
		return "", fmt.Errorf("look up %s: %w", email, slackError("users.lookupByEmail", "account_inactive"))
	}
	return u.ID, nil
}

// UserInfo is what drbot needs to know of a Slack member; the incident
// service's type, so that SlackChat.LookupUser is incident.Chat's.
type UserInfo = incident.UserInfo

// LookupUser returns a member by id (users.info): whether it still
// exists and is active, for the contact-list review.
func (c *SlackChat) LookupUser(ctx context.Context, userID string) (UserInfo, error) {
	u, err := get(c, "users.info", func() (*slack.User, error) {
		return c.api.GetUserInfoContext(ctx, userID)
	})
	if err != nil {
		return UserInfo{}, fmt.Errorf("look up %s: %w", userID, err)
	}
	return UserInfo{ID: u.ID, Name: u.Name, RealName: u.RealName, Email: u.Profile.Email, Deleted: u.Deleted, IsBot: u.IsBot}, nil
}

// Webhook POSTs a JSON body to url (paging.webhook: PagerDuty Events API
// v2 or any JSON receiver). 429 and 5xx are retried, other 4xx are not.
func (c *SlackChat) Webhook(ctx context.Context, url string, body []byte) error {
	return c.postJSON(ctx, "webhook", url, body)
}

// postJSON POSTs body to url and counts the call as method, as do does a
// Web API call: the answer's status maps to a ChatError like Slack's, and
// another error (the network) says method.
func (c *SlackChat) postJSON(ctx context.Context, method, url string, body []byte) error {
	err := c.sendJSON(ctx, method, url, body)
	if c.metrics != nil {
		c.metrics.SlackCall(method, errorCode(err))
	}
	var ce *incident.ChatError
	if err != nil && !errors.As(err, &ce) {
		return fmt.Errorf("%s: %w", method, err)
	}
	return err
}

// sendJSON POSTs body and maps the answer's status like Slack's.
func (c *SlackChat) sendJSON(ctx context.Context, method, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return &incident.ChatError{Method: method, Code: "invalid_url", Permanent: true}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		// net/http's error quotes the whole URL, and these URLs are
		// credentials: a response_url, a webhook with its key in the path
		// or the query. The error is logged and may be recorded, so it
		// names only the host; Unwrap keeps timeouts recognisable.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("%s %s: %w", ue.Op, req.URL.Scheme+"://"+req.URL.Host, ue.Err)
		}
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests:
		secs, _ := strconv.ParseInt(resp.Header.Get("Retry-After"), 10, 64)
		return &incident.ChatError{Method: method, Code: "ratelimited", RetryAfter: max(secs, 1)}
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout:
		return &incident.ChatError{Method: method, Code: "http_" + strconv.Itoa(resp.StatusCode)}
	default:
		return &incident.ChatError{Method: method, Code: "http_" + strconv.Itoa(resp.StatusCode), Permanent: true}
	}
}

// ResponseMessage is what is POSTed to a response_url.
type ResponseMessage struct {
	ResponseType    string `json:"response_type,omitempty"` // "ephemeral" or "in_channel"
	Text            string `json:"text"`
	ReplaceOriginal bool   `json:"replace_original"`
}

// Respond POSTs a message to the response_url of a slash command or an
// interaction.
func (c *SlackChat) Respond(ctx context.Context, responseURL string, m ResponseMessage) error {
	m.Text = truncate(m.Text, slacklimit.ChatText)
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("respond: %w", err)
	}
	return c.postJSON(ctx, "response_url", responseURL, body)
}

// OpenView opens a modal with the trigger_id of a command or interaction.
func (c *SlackChat) OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) error {
	return c.do("views.open", func() error {
		_, err := c.api.OpenViewContext(ctx, triggerID, view)
		return err
	})
}

// MessageText returns the text and author of the message at ts in a
// channel (conversations.history), for a :pushpin: reaction.
func (c *SlackChat) MessageText(ctx context.Context, channelID, ts string) (text, user string, err error) {
	err = c.do("conversations.history", func() error {
		h, err := c.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: channelID, Latest: ts, Inclusive: true, Limit: 1,
		})
		if err != nil {
			return err
		}
		if len(h.Messages) == 0 || h.Messages[0].Timestamp != ts {
			return slack.SlackErrorResponse{Err: "message_not_found"}
		}
		text, user = h.Messages[0].Text, h.Messages[0].User
		return nil
	})
	return text, user, err
}
