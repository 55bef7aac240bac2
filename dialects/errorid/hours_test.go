package errorid_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/dialects/errorid"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func mustSchedule(t *testing.T, spec, zone string) *errorid.Schedule {
	t.Helper()
	s, err := errorid.ParseSchedule(spec, zone)
	if err != nil {
		t.Fatalf("ParseSchedule(%q, %q): %v", spec, zone, err)
	}
	if s == nil {
		t.Fatalf("ParseSchedule(%q, %q) = nil, want a schedule", spec, zone)
	}
	return s
}

// TestScheduleOpen checks instants inside and outside windows, across both
// 2026 DST changes in Europe/Berlin and windows crossing midnight.
func TestScheduleOpen(t *testing.T) {
	const berlin = "Europe/Berlin"
	cases := []struct {
		name, spec, zone string
		at               string // UTC instant
		open             bool
	}{
		// Winter (CET = UTC+1).
		{"winter before opening", "Mon-Fri 08:00-18:00", berlin, "2026-03-25T06:59:59Z", false},
		{"winter at opening", "Mon-Fri 08:00-18:00", berlin, "2026-03-25T07:00:00Z", true},
		{"winter last second", "Mon-Fri 08:00-18:00", berlin, "2026-03-25T16:59:59Z", true},
		{"winter at closing", "Mon-Fri 08:00-18:00", berlin, "2026-03-25T17:00:00Z", false},
		// Summer (CEST = UTC+2): the same wall-clock window, an hour earlier in UTC.
		{"summer before opening", "Mon-Fri 08:00-18:00", berlin, "2026-07-15T05:59:59Z", false},
		{"summer at opening", "Mon-Fri 08:00-18:00", berlin, "2026-07-15T06:00:00Z", true},
		{"summer at closing", "Mon-Fri 08:00-18:00", berlin, "2026-07-15T16:00:00Z", false},
		{"summer 07:00Z is 09:00 local", "Mon-Fri 08:00-18:00", berlin, "2026-07-15T07:00:00Z", true},
		{"saturday", "Mon-Fri 08:00-18:00", berlin, "2026-03-28T10:00:00Z", false},
		{"sunday", "Mon-Fri 08:00-18:00", berlin, "2026-03-29T10:00:00Z", false},
		{"UTC default zone", "Mon-Fri 08:00-18:00", "", "2026-03-25T08:00:00Z", true},
		{"UTC default zone before", "Mon-Fri 08:00-18:00", "", "2026-03-25T07:59:59Z", false},
		// Spring forward, Sunday 2026-03-29: 02:00 CET becomes 03:00 CEST.
		// "Sun 01:00-04:00" runs 00:00Z..02:00Z, two real hours.
		{"spring window open", "Sun 01:00-04:00", berlin, "2026-03-29T00:00:00Z", true},
		{"spring window late", "Sun 01:00-04:00", berlin, "2026-03-29T01:59:59Z", true},
		{"spring window closed at 04:00 CEST", "Sun 01:00-04:00", berlin, "2026-03-29T02:00:00Z", false},
		// A start inside the skipped hour moves forward by the gap: 02:30 -> 03:30 CEST = 01:30Z.
		{"spring skipped start before", "Sun 02:30-05:00", berlin, "2026-03-29T01:29:59Z", false},
		{"spring skipped start", "Sun 02:30-05:00", berlin, "2026-03-29T01:30:00Z", true},
		// Fall back, Sunday 2026-10-25: 03:00 CEST becomes 02:00 CET.
		// "Sun 01:00-04:00" runs 23:00Z (Sat) .. 03:00Z, four real hours.
		{"fall window open", "Sun 01:00-04:00", berlin, "2026-10-24T23:00:00Z", true},
		{"fall window in repeated hour", "Sun 01:00-04:00", berlin, "2026-10-25T01:30:00Z", true},
		{"fall window late", "Sun 01:00-04:00", berlin, "2026-10-25T02:59:59Z", true},
		{"fall window closed at 04:00 CET", "Sun 01:00-04:00", berlin, "2026-10-25T03:00:00Z", false},
		// A start in the repeated hour uses its second occurrence (CET): 02:30 CET = 01:30Z.
		{"fall repeated start first occurrence", "Sun 02:30-05:00", berlin, "2026-10-25T00:45:00Z", false},
		{"fall repeated start second occurrence", "Sun 02:30-05:00", berlin, "2026-10-25T01:30:00Z", true},
		// Windows crossing midnight.
		{"overnight before", "Fri 22:00-02:00", "", "2026-03-27T21:59:59Z", false},
		{"overnight friday", "Fri 22:00-02:00", "", "2026-03-27T23:00:00Z", true},
		{"overnight saturday morning", "Fri 22:00-02:00", "", "2026-03-28T01:59:59Z", true},
		{"overnight closed", "Fri 22:00-02:00", "", "2026-03-28T02:00:00Z", false},
		{"overnight not from thursday", "Fri 22:00-02:00", "", "2026-03-27T01:00:00Z", false},
		// Overnight across spring forward: Sat 22:00 CET (21:00Z) .. Sun 06:00 CEST (04:00Z).
		{"overnight across DST", "Sat 22:00-06:00", berlin, "2026-03-29T03:59:59Z", true},
		{"overnight across DST closed", "Sat 22:00-06:00", berlin, "2026-03-29T04:00:00Z", false},
		{"ends at midnight (00:00)", "Mon 20:00-00:00", "", "2026-03-23T23:59:59Z", true},
		{"ends at midnight (00:00) closed", "Mon 20:00-00:00", "", "2026-03-24T00:00:00Z", false},
		// Day lists and ranges.
		{"list wed", "Mon,Wed,Fri 09:00-10:00", "", "2026-03-25T09:30:00Z", true},
		{"list tue", "Mon,Wed,Fri 09:00-10:00", "", "2026-03-24T09:30:00Z", false},
		{"list with spaces", "mon, wed, FRI 09:00-10:00", "", "2026-03-27T09:30:00Z", true},
		{"weekend range", "Sat-Sun 10:00-14:00", "", "2026-03-29T11:00:00Z", true},
		{"weekend range weekday", "Sat-Sun 10:00-14:00", "", "2026-03-27T11:00:00Z", false},
		{"wrapping range sunday", "Fri-Mon 10:00-14:00", "", "2026-03-29T11:00:00Z", true},
		{"wrapping range tuesday", "Fri-Mon 10:00-14:00", "", "2026-03-24T11:00:00Z", false},
		// Several windows.
		{"lunch break", "Mon-Fri 08:00-12:00; Mon-Fri 13:00-17:00", "", "2026-03-25T12:30:00Z", false},
		{"afternoon", "Mon-Fri 08:00-12:00; Mon-Fri 13:00-17:00", "", "2026-03-25T13:00:00Z", true},
		{"saturday extra", "Mon-Fri 08:00-18:00; Sat 09:00-12:00", "", "2026-03-28T09:00:00Z", true},
		{"all day", "Mon-Sun 00:00-24:00", berlin, "2026-03-29T01:30:00Z", true},
		{"adjacent windows at the seam", "Mon 20:00-24:00; Tue 00:00-04:00", "", "2026-03-24T00:00:00Z", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := mustSchedule(t, tc.spec, tc.zone)
			at := utc(tc.at)
			if got := s.Open(at); got != tc.open {
				t.Fatalf("%q in %q at %s (%s local): Open = %v, want %v", tc.spec, tc.zone, tc.at,
					at.In(s.Location()).Format("Mon 15:04 MST"), got, tc.open)
			}
			if got := s.RetryAfter(at); (got == 0) != tc.open {
				t.Fatalf("RetryAfter = %d while Open = %v", got, tc.open)
			}
		})
	}
}

func TestScheduleRetryAfter(t *testing.T) {
	const berlin = "Europe/Berlin"
	cases := []struct {
		name, spec, zone, at string
		want                 int64
		next                 string
	}{
		// Friday 18:00 CET to Monday 08:00 CEST over the spring change: 61 h, not 62.
		{"weekend over spring forward", "Mon-Fri 08:00-18:00", berlin, "2026-03-27T17:00:00Z", 61 * 3600, "2026-03-30T06:00:00Z"},
		// Friday 18:00 CEST to Monday 08:00 CET over the autumn change: 63 h, not 62.
		{"weekend over fall back", "Mon-Fri 08:00-18:00", berlin, "2026-10-23T16:00:00Z", 63 * 3600, "2026-10-26T07:00:00Z"},
		{"ordinary weekend", "Mon-Fri 08:00-18:00", berlin, "2026-06-12T16:00:00Z", 62 * 3600, "2026-06-15T06:00:00Z"},
		{"early morning", "Mon-Fri 08:00-18:00", berlin, "2026-03-25T06:00:00Z", 3600, "2026-03-25T07:00:00Z"},
		{"rounded up", "Mon-Fri 08:00-18:00", berlin, "2026-03-25T06:59:58.5Z", 2, "2026-03-25T07:00:00Z"},
		{"lunch break", "Mon-Fri 08:00-12:00; Mon-Fri 13:00-17:00", "", "2026-03-25T12:30:00Z", 1800, "2026-03-25T13:00:00Z"},
		{"a week away", "Mon 08:00-09:00", "", "2026-03-23T09:00:00Z", 7*24*3600 - 3600, "2026-03-30T08:00:00Z"},
		{"overnight", "Fri 22:00-02:00", "", "2026-03-28T02:00:00Z", 6*24*3600 + 20*3600, "2026-04-03T22:00:00Z"},
		{"inside", "Mon-Fri 08:00-18:00", berlin, "2026-03-25T10:00:00Z", 0, "2026-03-25T10:00:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := mustSchedule(t, tc.spec, tc.zone)
			at := utc(tc.at)
			if got := s.RetryAfter(at); got != tc.want {
				t.Errorf("RetryAfter(%s) = %d, want %d", tc.at, got, tc.want)
			}
			if got, want := s.NextOpen(at), utc(tc.next); !got.Equal(want) {
				t.Errorf("NextOpen(%s) = %s, want %s", tc.at, got.UTC(), want)
			}
		})
	}
}

func TestScheduleAlwaysOpen(t *testing.T) {
	for _, spec := range []string{"", "   "} {
		s, err := errorid.ParseSchedule(spec, "Europe/Berlin")
		if err != nil || s != nil {
			t.Fatalf("ParseSchedule(%q) = %v, %v; want nil, nil (always open)", spec, s, err)
		}
		at := utc("2026-03-28T03:00:00Z")
		if !s.Open(at) || s.RetryAfter(at) != 0 || !s.NextOpen(at).Equal(at) {
			t.Fatalf("a nil schedule must always be open")
		}
	}
}

func TestScheduleInvalid(t *testing.T) {
	cases := []struct{ spec, zone, want string }{
		{"Mon-Fry 08:00-18:00", "", `unknown day "Fry"`},
		{"Monday 08:00-18:00", "", `unknown day "Monday"`},
		{"Mon-Fri 8-18", "", `time "8"`},
		{"Mon-Fri 08:00", "", `want HH:MM-HH:MM`},
		{"08:00-18:00", "", "want days and a time range"},
		{"Mon-Fri", "", "want days and a time range"},
		{"Mon 08:00-08:00", "", "is empty"},
		{"Mon 00:00-00:00", "", "is empty"},
		{"Mon 24:00-10:00", "", `time "24:00"`},
		{"Mon 08:60-10:00", "", `time "08:60"`},
		{"Mon 25:00-26:00", "", `time "25:00"`},
		{"Mon 08:00-24:30", "", `time "24:30"`},
		{"Mon 08:00-18:0", "", `time "18:0"`},
		{"Mon 8:+1-18:00", "", `time "8:+1"`},
		{"Mon-Fri 08:00-18:00;", "", "window 2"},
		{"Mon-Fri 08:00-18:00; Sat 9-12", "", "window 2"},
		{"Mon--Fri 08:00-18:00", "", "unknown day"},
		{",Mon 08:00-18:00", "", "unknown day"},
		{"Mon-Fri 08:00-18:00", "Mars/Olympus", `time_zone "Mars/Olympus"`},
		{"", "Not/AZone", `time_zone "Not/AZone"`},
	}
	for _, tc := range cases {
		s, err := errorid.ParseSchedule(tc.spec, tc.zone)
		if err == nil {
			t.Errorf("ParseSchedule(%q, %q) = %v, want an error", tc.spec, tc.zone, s)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSchedule(%q, %q) error %q, want it to mention %q", tc.spec, tc.zone, err, tc.want)
		}
	}
}

func TestScheduleString(t *testing.T) {
	s := mustSchedule(t, "Mon-Fri 08:00-18:00", "Europe/Berlin")
	if got := s.String(); got != "Mon-Fri 08:00-18:00 (Europe/Berlin)" {
		t.Fatalf("String() = %q", got)
	}
	var none *errorid.Schedule
	if none.String() != "always open" || none.Location() != time.UTC {
		t.Fatalf("nil schedule: %q %v", none.String(), none.Location())
	}
}
