package core_test

import (
	"math"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

// The clock cannot leave the range every store and JSON represent: times
// outside are refused, not silently saturated (year 2400 used to land on
// 2318, year 0 on 1734), and advancing past the range fails instead of
// wrapping around.
func TestAdjustableClockRange(t *testing.T) {
	for _, frozen := range []bool{false, true} {
		base := core.NewFakeClock(t0)
		c := core.NewAdjustableClock(base)
		c.Freeze(frozen)
		for _, bad := range []time.Time{
			time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(2400, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), core.ClockMin.Add(-time.Nanosecond), core.ClockMax.Add(time.Second),
		} {
			wantKind(t, c.Set(bad), core.KindInvalidRequest, "")
			if !c.Now().Equal(t0) {
				t.Fatalf("frozen %v: refused Set(%v) moved the clock to %v", frozen, bad, c.Now())
			}
		}
		for _, d := range []time.Duration{math.MaxInt64, math.MinInt64, 2562047 * time.Hour, core.ClockMax.Sub(t0) + time.Second} {
			err := c.Advance(d)
			wantKind(t, err, core.KindInvalidRequest, "")
			if p := err.(*core.Error).Param; p != "advance" || !c.Now().Equal(t0) {
				t.Fatalf("frozen %v: refused Advance(%v) (param %q) moved the clock to %v", frozen, d, p, c.Now())
			}
		}
		must(t, c.Set(core.ClockMax))
		if !c.Now().Equal(core.ClockMax) {
			t.Fatalf("Set(ClockMax) reads %v", c.Now())
		}
		wantKind(t, c.Advance(time.Second), core.KindInvalidRequest, "")
		must(t, c.Advance(core.ClockMin.Sub(core.ClockMax)))
		if !c.Now().Equal(core.ClockMin) {
			t.Fatalf("back to ClockMin reads %v", c.Now())
		}
		wantKind(t, c.Advance(-time.Second), core.KindInvalidRequest, "")
	}
	if end := core.ClockMax.Add(core.MaxLifetime); !end.Before(time.Unix(0, math.MaxInt64)) {
		t.Fatalf("a token expiring at %v does not fit int64 nanoseconds", end)
	}
}
