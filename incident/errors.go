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
// caused it.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of a domain error, or a generic message
// that reveals nothing internal.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error; it has been logged. Please try again."
}

// ChatError is what a Chat returns when a call failed; the outbox worker
// uses it to decide between retrying and giving up.
type ChatError struct {
	Method     string // e.g. "chat.postMessage"
	Code       string // Slack's error string, e.g. "user_not_found", "ratelimited"
	RetryAfter int64  // seconds, from Retry-After on a 429; 0 when absent
	Permanent  bool   // retrying cannot help (user_not_found, channel_not_found, invalid_auth ...)
}

func (e *ChatError) Error() string {
	if e.Method == "" {
		return e.Code
	}
	return e.Method + ": " + e.Code
}
