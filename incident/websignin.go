package incident

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Sign-in to the web pages, without a password store (issue 14):
// "/incident web" gives the person who typed it, and only them, a link
// with a one-time token valid SignInLinkTTL; opening it starts a session
// of WebSessionTTL held in a cookie. Links and sessions are kept in the
// Store's key/value state so that every drbot instance sharing the
// database honours them. Only the SHA-256 of a token is stored: someone
// who reads the database (a backup) cannot sign in with what they find.
// A link is used once: PutIfAbsent of its "used" key is the single place
// that decides, so two instances cannot both accept it.
const (
	SignInLinkTTL = 10 * time.Minute
	WebSessionTTL = 12 * time.Hour

	kvWebLink     = "web/link/"      // + token hash: webGrant
	kvWebLinkUsed = "web/link-used/" // + token hash: when it was used
	kvWebSession  = "web/session/"   // + token hash: webGrant
)

// ErrSignIn is the error of a link or session that is not (or no longer)
// valid; its message says which and what to do.
var ErrSignIn = errors.New("sign-in refused")

// webGrant is what a stored link or session grants: who, until when.
type webGrant struct {
	User    string    `json:"user"` // Slack member ID
	Expires time.Time `json:"expires"`
}

// newToken returns a random token (32 bytes, base64url) and the hash it
// is stored under.
func newToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("random token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, tokenHash(token), nil
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// NewSignInLink records a one-time sign-in token for user, valid
// SignInLinkTTL from now, and returns the token (to put in a link; it is
// never stored).
func NewSignInLink(tx Tx, user string, now time.Time) (string, error) {
	if user == "" {
		return "", errors.New("sign-in link: no user")
	}
	token, hash, err := newToken()
	if err != nil {
		return "", err
	}
	if err := putJSON(tx, kvWebLink+hash, webGrant{User: user, Expires: now.Add(SignInLinkTTL).UTC()}); err != nil {
		return "", err
	}
	return token, nil
}

// UseSignInLink accepts a sign-in token once: it returns the user it was
// given to and starts a session for them, returning the session token.
// A token that was never given, has expired, or was already used is
// refused with an error wrapping ErrSignIn that says which.
func UseSignInLink(tx Tx, token string, now time.Time) (user, session string, err error) {
	hash := tokenHash(token)
	var g webGrant
	ok, err := getJSON(tx, kvWebLink+hash, &g)
	if err != nil {
		return "", "", err
	}
	if !ok || token == "" {
		return "", "", fmt.Errorf("%w: this sign-in link is not one drbot gave; type /incident web in Slack for a new one", ErrSignIn)
	}
	if !now.Before(g.Expires) {
		return "", "", fmt.Errorf("%w: this sign-in link expired at %s (links last %s); type /incident web in Slack for a new one",
			ErrSignIn, g.Expires.UTC().Format("15:04 UTC"), fmtDur(SignInLinkTTL))
	}
	first, err := tx.PutIfAbsent(kvWebLinkUsed+hash, now.UTC().Format(time.RFC3339))
	if err != nil {
		return "", "", err
	}
	if !first {
		return "", "", fmt.Errorf("%w: this sign-in link was already used (each works once); type /incident web in Slack for a new one", ErrSignIn)
	}
	session, shash, err := newToken()
	if err != nil {
		return "", "", err
	}
	if err := putJSON(tx, kvWebSession+shash, webGrant{User: g.User, Expires: now.Add(WebSessionTTL).UTC()}); err != nil {
		return "", "", err
	}
	return g.User, session, nil
}

// WebSession returns the user of a session token and when it expires. An
// unknown or expired token is refused with an error wrapping ErrSignIn.
func WebSession(tx Tx, token string, now time.Time) (user string, expires time.Time, err error) {
	if token == "" {
		return "", time.Time{}, fmt.Errorf("%w: not signed in", ErrSignIn)
	}
	raw, ok, err := tx.Get(kvWebSession + tokenHash(token))
	if err != nil {
		return "", time.Time{}, err
	}
	var g webGrant
	if !ok || json.Unmarshal([]byte(raw), &g) != nil || g.User == "" {
		return "", time.Time{}, fmt.Errorf("%w: this session is not one drbot started", ErrSignIn)
	}
	if !now.Before(g.Expires) {
		return "", time.Time{}, fmt.Errorf("%w: the session expired (sessions last %s)", ErrSignIn, fmtDur(WebSessionTTL))
	}
	return g.User, g.Expires, nil
}

// webLink answers "/incident web": a sign-in link for the person who
// typed it, shown only to them (an ephemeral reply is never stored). In
// an incident channel the link leads to that incident's page.
func (s *Engine) webLink(ctx context.Context, req CommandRequest) (Reply, error) {
	if s.cfg.PublicURL == "" {
		return Reply{}, Errorf(EINVALID, "drbot's web pages are off: whoever runs drbot can turn them on by setting DRBOT_PUBLIC_URL to the address people reach it at. On drbot's own machine, drbot web --db FILE shows them with no sign-in.")
	}
	var token string
	var incID int64
	err := s.cfg.Store.Update(ctx, func(tx Tx) error {
		if inc, err := tx.IncidentByChannel(req.ChannelID); err == nil && inc != nil {
			incID = inc.ID
		}
		var err error
		token, err = NewSignInLink(tx, req.UserID, s.now())
		return err
	})
	if err != nil {
		return Reply{}, fmt.Errorf("sign-in link: %w", err)
	}
	link := s.cfg.PublicURL + "/signin?token=" + token
	if incID > 0 {
		link += fmt.Sprintf("&amp;next=/incidents/%d", incID) // &amp;: Slack reads & in a message as an entity
	}
	return Reply{Text: fmt.Sprintf("Your sign-in link to drbot's pages, only for you: <%s|open drbot>\nIt works once, within %s, and starts a session of %s in that browser. Do not share it.",
		link, fmtDur(SignInLinkTTL), fmtDur(WebSessionTTL))}, nil
}

// IncidentURL is the address of incident id's web page, or "" when the
// pages are off.
func (s *Engine) IncidentURL(id int64) string {
	if s.cfg.PublicURL == "" {
		return ""
	}
	return fmt.Sprintf("%s/incidents/%d", s.cfg.PublicURL, id)
}
