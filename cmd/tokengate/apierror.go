package main

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/tokengate/tokengate/dialects/admin"
)

// describeAPIError turns an admin API error into what a CLI user reads: a
// sentence that names the field, several problems one per line. what names
// the object of the command ("fault rule", "client"); other errors (the
// gateway cannot be reached) are returned as they are.
func describeAPIError(err error, what string) string {
	var ae *admin.APIError
	if !errors.As(err, &ae) {
		return err.Error()
	}
	p := ae.Problem
	var head string
	switch ae.Status {
	case http.StatusBadRequest:
		head = "invalid " + what
	case http.StatusConflict:
		head = what + " conflicts with an existing one"
	case http.StatusUnauthorized:
		return fmt.Sprintf("the admin API refused the token (401 %s): %s; pass --token or set TOKENGATE_ADMIN_TOKEN",
			p.Error, strings.TrimSuffix(p.Message, "."))
	case http.StatusNotFound:
		head = "not found"
	default:
		head = fmt.Sprintf("the admin API answered %d %s", ae.Status, p.Error)
	}
	lines := append([]string(nil), p.Problems...)
	if len(lines) == 0 && p.Message != "" {
		line := p.Message
		if p.Field != "" {
			line = p.Field + ": " + line
		}
		lines = []string{line}
	}
	for i, l := range lines {
		lines[i] = sentence(l)
	}
	switch len(lines) {
	case 0:
		return head
	case 1:
		return head + ": " + lines[0]
	}
	return head + ":\n  " + strings.Join(lines, "\n  ")
}

// validatorProblem is the admin API's rendering of a failed validation tag:
// "status: failed max 599".
var validatorProblem = regexp.MustCompile(`^(\S+): failed (\w+) ?(.*)$`)

// sentence rewrites one "field: message" problem so that it reads as a
// sentence with the field as its subject.
func sentence(problem string) string {
	if m := validatorProblem.FindStringSubmatch(problem); m != nil {
		return m[1] + " " + tagPhrase(m[2], strings.TrimSpace(m[3]))
	}
	field, msg, ok := strings.Cut(problem, ": ")
	if !ok || strings.ContainsAny(field, " ") {
		return problem
	}
	for _, verb := range []string{"must ", "is ", "are ", "names ", "has "} {
		if strings.HasPrefix(msg, verb) {
			return field + " " + msg
		}
	}
	return problem
}

// tagPhrase says in words what a validator tag requires.
func tagPhrase(tag, param string) string {
	switch tag {
	case "required":
		return "is required"
	case "min", "gte":
		return "must be at least " + param
	case "max", "lte":
		return "must be at most " + param
	case "gt":
		return "must be greater than " + param
	case "lt":
		return "must be less than " + param
	case "len":
		return "must have length " + param
	case "oneof":
		return "must be one of " + strings.Join(strings.Fields(param), ", ")
	case "startswith":
		return fmt.Sprintf("must start with %q", param)
	case "url", "http_url", "uri":
		return "must be an absolute URL"
	case "email":
		return "must be an email address"
	}
	if param != "" {
		return fmt.Sprintf("fails the %s=%s check", tag, param)
	}
	return fmt.Sprintf("fails the %s check", tag)
}
