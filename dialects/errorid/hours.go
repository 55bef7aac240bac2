package errorid

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones even on hosts without /usr/share/zoneinfo
)

// Schedule is the dialect's working hours: weekly windows read on the wall
// clock of one time zone. A nil *Schedule is always open.
//
// Grammar (case-insensitive day names, whitespace around separators ignored):
//
//	spec   = window *( ";" window )
//	window = days SP time "-" time
//	days   = item *( "," item )
//	item   = day | day "-" day          ; "Fri-Mon" wraps over the weekend
//	day    = "Mon" | "Tue" | "Wed" | "Thu" | "Fri" | "Sat" | "Sun"
//	time   = H[H] ":" MM                ; 00:00 to 23:59, and 24:00 as an end
//
// A window whose end is not after its start crosses midnight: it opens on
// each listed day at the start and closes the next day at the end
// ("Fri 22:00-02:00" is Friday 22:00 to Saturday 02:00).
type Schedule struct {
	spec    string
	loc     *time.Location
	windows []window
}

type window struct {
	days       [7]bool // by time.Weekday
	start, end int     // minutes after midnight; end in 1..1440
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// LoadZone resolves an IANA time zone name; "" is UTC.
func LoadZone(name string) (*time.Location, error) {
	if strings.TrimSpace(name) == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IANA time zone name such as Europe/Berlin", name)
	}
	return loc, nil
}

// ParseSchedule parses a working_hours spec read in time zone zone (an IANA
// name, "" for UTC). An empty spec returns nil: always open.
func ParseSchedule(spec, zone string) (*Schedule, error) {
	loc, err := LoadZone(zone)
	if err != nil {
		return nil, fmt.Errorf("time_zone %w", err)
	}
	s, err := NewSchedule(spec, loc)
	if err != nil {
		return nil, fmt.Errorf("working_hours %w", err)
	}
	return s, nil
}

// NewSchedule parses a working_hours spec read in loc. An empty spec
// returns nil: always open.
func NewSchedule(spec string, loc *time.Location) (*Schedule, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	s := &Schedule{spec: spec, loc: loc}
	for i, part := range strings.Split(spec, ";") {
		w, err := parseWindow(part)
		if err != nil {
			return nil, fmt.Errorf("%q: window %d %q: %s (want e.g. \"Mon-Fri 08:00-18:00; Sat 09:00-12:00\")",
				spec, i+1, strings.TrimSpace(part), err)
		}
		s.windows = append(s.windows, w)
	}
	return s, nil
}

func parseWindow(s string) (window, error) {
	var w window
	f := strings.Fields(s)
	if len(f) < 2 {
		return w, fmt.Errorf("want days and a time range separated by a space")
	}
	times := f[len(f)-1]
	if err := parseDays(strings.Join(f[:len(f)-1], ""), &w.days); err != nil {
		return w, err
	}
	from, to, ok := strings.Cut(times, "-")
	if !ok {
		return w, fmt.Errorf("time range %q: want HH:MM-HH:MM", times)
	}
	var err error
	if w.start, err = parseClock(from, false); err != nil {
		return w, err
	}
	if w.end, err = parseClock(to, true); err != nil {
		return w, err
	}
	if w.start == w.end {
		return w, fmt.Errorf("time range %q is empty", times)
	}
	if w.end == 0 {
		w.end = 24 * 60 // "22:00-00:00" ends at midnight
	}
	return w, nil
}

func parseDays(s string, days *[7]bool) error {
	if s == "" {
		return fmt.Errorf("no days")
	}
	for _, item := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(item, "-")
		first, err := parseDay(a)
		if err != nil {
			return err
		}
		last := first
		if isRange {
			if last, err = parseDay(b); err != nil {
				return err
			}
		}
		for d := first; ; d = (d + 1) % 7 {
			days[d] = true
			if d == last {
				break
			}
		}
	}
	return nil
}

func parseDay(s string) (time.Weekday, error) {
	d, ok := dayNames[strings.ToLower(s)]
	if !ok {
		return 0, fmt.Errorf("unknown day %q (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)", s)
	}
	return d, nil
}

// parseClock reads H:MM or HH:MM as minutes after midnight; 24:00 only as an end.
func parseClock(s string, end bool) (int, error) {
	hs, ms, ok := strings.Cut(s, ":")
	bad := fmt.Errorf("time %q: want HH:MM between 00:00 and 23:59 (24:00 as an end)", s)
	if !ok || len(hs) < 1 || len(hs) > 2 || len(ms) != 2 {
		return 0, bad
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && (m != 0 || !end)) ||
		strings.ContainsAny(hs+ms, "+-") {
		return 0, bad
	}
	return h*60 + m, nil
}

// String is the spec the schedule was parsed from.
func (s *Schedule) String() string {
	if s == nil {
		return "always open"
	}
	return s.spec + " (" + s.loc.String() + ")"
}

// Location is the time zone the schedule reads.
func (s *Schedule) Location() *time.Location {
	if s == nil {
		return time.UTC
	}
	return s.loc
}

// intervals calls f with each concrete opening [from, to) of the windows that
// start on the local days from the day before t to a week after it, in
// order of day. Boundaries are wall-clock times in the zone, so the length of
// an interval spanning a DST change differs from its nominal length; a
// boundary inside a skipped hour is resolved as time.Date does (it moves
// forward by the size of the gap).
func (s *Schedule) intervals(t time.Time, f func(from, to time.Time) bool) {
	lt := t.In(s.loc)
	y, m, d := lt.Date()
	for k := -1; k <= 7; k++ {
		day := time.Date(y, m, d+k, 12, 0, 0, 0, s.loc).Weekday()
		for _, w := range s.windows {
			if !w.days[day] {
				continue
			}
			from := time.Date(y, m, d+k, 0, w.start, 0, 0, s.loc)
			endDay := d + k
			if w.end <= w.start {
				endDay++
			}
			to := time.Date(y, m, endDay, 0, w.end, 0, 0, s.loc)
			if to.After(from) && !f(from, to) {
				return
			}
		}
	}
}

// Open reports whether t falls inside a window.
func (s *Schedule) Open(t time.Time) bool {
	if s == nil {
		return true
	}
	open := false
	s.intervals(t, func(from, to time.Time) bool {
		if !t.Before(from) && t.Before(to) {
			open = true
			return false
		}
		return true
	})
	return open
}

// NextOpen returns t when the schedule is open at t, else the next instant it
// opens. Every valid schedule opens at least once a week.
func (s *Schedule) NextOpen(t time.Time) time.Time {
	if s.Open(t) {
		return t
	}
	var next time.Time
	s.intervals(t, func(from, _ time.Time) bool {
		if from.After(t) && (next.IsZero() || from.Before(next)) {
			next = from
		}
		return true
	})
	return next
}

// RetryAfter is how long from t until the schedule opens, in whole seconds
// rounded up (at least 1); 0 when it is open at t.
func (s *Schedule) RetryAfter(t time.Time) int64 {
	if s.Open(t) {
		return 0
	}
	next := s.NextOpen(t)
	if next.IsZero() { // unreachable for a parsed schedule; retry in a week
		return int64(7 * 24 * time.Hour / time.Second)
	}
	d := next.Sub(t)
	secs := int64(d / time.Second)
	if d%time.Second != 0 {
		secs++
	}
	return max(secs, 1)
}
