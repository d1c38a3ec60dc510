package incident

import (
	"errors"
	"fmt"
)

// Error codes carried by domain errors. bot maps them to messages a person
// can act on.
const (
	ENOTFOUND  = "not_found"
	EINVALID   = "invalid"
	EFORBIDDEN = "forbidden"
	ECONFLICT  = "conflict"
	EINTERNAL  = "internal"
)

// Error is a domain error: a code and a message meant for the person who
// caused it, and which of their inputs it is about (Field), so that a
// dialog can show it under that input.
type Error struct {
	Code    string
	Message string
	Field   string // FieldScenario, FieldSummary ...; "" when about no one input
}

// Inputs an Error can be about: the fields of DeclareRequest a dialog
// asks for.
const (
	FieldScenario = "scenario"
	FieldSummary  = "summary"
)

// ErrorField returns the Field of the first *Error in err's chain, "" for
// any other error.
func ErrorField(err error) string {
	return errorPart(err, func(e *Error) string { return e.Field }, "")
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other error, and "" for nil.
func ErrorCode(err error) string {
	return errorPart(err, func(e *Error) string { return e.Code }, EINTERNAL)
}

// ErrorMessage returns the message of a domain error, or a generic message
// that reveals nothing internal.
func ErrorMessage(err error) string {
	return errorPart(err, func(e *Error) string { return e.Message }, "Internal error; it has been logged. Please try again.")
}

// errorPart is part of the first *Error in err's chain, other for any
// other error, and "" for nil.
func errorPart(err error, part func(*Error) string, other string) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return part(e)
	}
	return other
}

// ChatError is what a Chat returns when a call failed; the outbox worker
// uses it to decide between retrying and giving up.
type ChatError struct {
	Method     string // e.g. "chat.postMessage"
	Code       string // the chat's own error name, shown to people: Slack's "user_not_found", "ratelimited" ...
	RetryAfter int64  // seconds, from Retry-After on a 429; 0 when absent
	Permanent  bool   // retrying cannot help (user_not_found, channel_not_found, invalid_auth ...)
	// Reason is what the error means to the engine, when it acts on it;
	// the chat surface maps its own names to it (bot does for Slack's), so
	// that no chat's error names are matched here.
	Reason ChatReason
	// User is the member the error is about when the call was about
	// several (an invite: the others were invited); "" otherwise.
	User string
}

// ChatReason is a permanent chat error the engine acts on.
type ChatReason string

// Reasons of a ChatError.
const (
	ReasonOther           ChatReason = ""                 // nothing the engine acts on
	ReasonUserNotFound    ChatReason = "user_not_found"   // no such account (by ID or email)
	ReasonUserDeactivated ChatReason = "user_deactivated" // the account is deactivated
	ReasonChannelArchived ChatReason = "channel_archived" // the channel is archived
)

// chatReason returns the reason of a permanent *ChatError in err's chain,
// and whether there is one.
func chatReason(err error) (code string, reason ChatReason, ok bool) {
	var ce *ChatError
	if errors.As(err, &ce) && ce.Permanent {
		return ce.Code, ce.Reason, true
	}
	return "", ReasonOther, false
}

func (e *ChatError) Error() string {
	if e.Method == "" {
		return e.Code
	}
	return e.Method + ": " + e.Code
}
