package occsimore

import (
	"errors"
	"fmt"
	"net/http"
)

// Application error codes. HTTPStatus maps them to HTTP statuses for the API
// and the console alike; domain code never speaks HTTP.
const (
	ECONFLICT     = "conflict"     // the object already exists
	EINTERNAL     = "internal"     // a bug or an infrastructure failure
	EINVALID      = "invalid"      // the caller sent something malformed
	ENOTFOUND     = "not_found"    // missing, or belongs to another member
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EFORBIDDEN    = "forbidden"    // valid credentials, insufficient role
	ETOOLARGE     = "too_large"    // a body or message over its limit
	ERATELIMIT    = "rate_limited" // too many requests
	EUNAVAILABLE  = "unavailable"  // not ready yet, or shutting down
)

// Error is an application error with a code, a message fit for the caller, and
// optionally the field the message is about.
type Error struct {
	Code    string
	Message string
	Field   string // JSON pointer or config key, if the error is about one input
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("occsimore: %s: %s (field %s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("occsimore: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EINVALID *Error about one field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-facing message of err. Internal errors are
// not described, so their details never leak to a client.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	return "internal error"
}

// ErrorField returns the field of the first *Error in err's chain, if any.
func ErrorField(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Field
	}
	return ""
}

// httpStatuses maps application error codes to HTTP statuses. It is the only
// place where domain errors meet HTTP: the API's problem bodies and the
// console's error pages both read it.
var httpStatuses = map[string]int{
	EINVALID:      http.StatusBadRequest,
	EUNAUTHORIZED: http.StatusUnauthorized,
	EFORBIDDEN:    http.StatusForbidden,
	ENOTFOUND:     http.StatusNotFound,
	ECONFLICT:     http.StatusConflict,
	ETOOLARGE:     http.StatusRequestEntityTooLarge,
	ERATELIMIT:    http.StatusTooManyRequests,
	EUNAVAILABLE:  http.StatusServiceUnavailable,
	EINTERNAL:     http.StatusInternalServerError,
}

// HTTPStatus returns the HTTP status for an application error code, 500 for
// an unknown one.
func HTTPStatus(code string) int {
	if s, ok := httpStatuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}
