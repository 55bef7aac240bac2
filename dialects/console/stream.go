package console

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// sse writes server-sent events.
type sse struct {
	w  *echo.Response
	rc *http.ResponseController
	// queued holds events queue has not written yet.
	queued strings.Builder
}

// writeTimeout bounds one event's write: a browser that stops reading ends
// its stream rather than holding a goroutine forever.
const writeTimeout = 10 * time.Second

func (s *sse) write(text string) error {
	if err := s.rc.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	if _, err := s.w.Write([]byte(text)); err != nil {
		return err
	}
	return s.rc.Flush()
}

// send writes one event (after any queued ones); data may span lines.
func (s *sse) send(event, data string) error {
	s.queue(event, data)
	return s.flush()
}

// queue adds an event for the next flush: a busy live view writes once per
// window, not once per row.
func (s *sse) queue(event, data string) {
	fmt.Fprintf(&s.queued, "event: %s\n", event)
	for line := range strings.SplitSeq(data, "\n") {
		s.queued.WriteString("data: " + strings.TrimRight(line, "\r") + "\n")
	}
	s.queued.WriteString("\n")
}

// flush writes the queued events, if any.
func (s *sse) flush() error {
	if s.queued.Len() == 0 {
		return nil
	}
	text := s.queued.String()
	s.queued.Reset()
	return s.write(text)
}

// comment keeps an idle connection open through proxies.
func (s *sse) comment() error { return s.write(": idle\n\n") }

// stream runs one live view: it takes a slot (at most MaxStreams views at
// once), lifts the server's read and write timeouts for this long-lived
// answer, and calls run until the browser leaves, the gateway shuts down or
// run fails. tick fires every heartbeat.
func (c *Console) stream(ec echo.Context, run func(ctx context.Context, s *sse, tick <-chan time.Time) error) error {
	select {
	case c.streams <- struct{}{}:
		defer func() { <-c.streams }()
	default:
		return c.errorPage(ec, http.StatusServiceUnavailable, "Too many live views are open; close one and reload.")
	}
	rc := http.NewResponseController(ec.Response())
	// The server's ReadTimeout would otherwise cancel the request's context.
	_ = rc.SetReadDeadline(time.Time{})
	h := ec.Response().Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	ec.Response().WriteHeader(http.StatusOK)
	s := &sse{w: ec.Response(), rc: rc}
	if err := s.write("retry: 2000\n\n"); err != nil {
		return nil
	}
	ctx, cancel := context.WithCancel(ec.Request().Context())
	defer cancel()
	stop := context.AfterFunc(c.done, cancel)
	defer stop()
	t := time.NewTicker(c.heartbeat)
	defer t.Stop()
	if err := run(ctx, s, t.C); err != nil && ctx.Err() == nil {
		c.log.Debug("live view ended", "error", err.Error())
	}
	return nil
}
