package sqlstore

import (
	"testing"
	"time"
)

func TestTimes(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.FixedZone("x", 3600))
	if v := EncodeTime[int64](at); v != at.UnixNano() {
		t.Errorf("EncodeTime[int64] = %d, want %d", v, at.UnixNano())
	}
	if v := EncodeTime[time.Time](at); !v.Equal(at) || v.Location() != time.UTC {
		t.Errorf("EncodeTime[time.Time] = %v, want %v in UTC", v, at)
	}
	if NullTime[int64](time.Time{}) != nil || NullTime[time.Time](time.Time{}) != nil {
		t.Error("NullTime of the zero time is not nil")
	}
	for _, got := range []time.Time{DecodeTime(NullTime[int64](at)), DecodeTime(NullTime[time.Time](at))} {
		if !got.Equal(at) || got.Location() != time.UTC {
			t.Errorf("round trip = %v, want %v in UTC", got, at)
		}
	}
	if !DecodeTime[int64](nil).IsZero() || !DecodeTime[time.Time](nil).IsZero() {
		t.Error("DecodeTime(nil) is not the zero time")
	}
}
