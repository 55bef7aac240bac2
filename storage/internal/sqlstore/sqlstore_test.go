package sqlstore_test

import (
	"testing"
	"time"

	"github.com/tokengate/tokengate/storage/internal/sqlstore"
)

func TestTimes(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.FixedZone("x", 3600))
	if v := sqlstore.EncodeTime[int64](at); v != at.UnixNano() {
		t.Errorf("sqlstore.EncodeTime[int64] = %d, want %d", v, at.UnixNano())
	}
	if v := sqlstore.EncodeTime[time.Time](at); !v.Equal(at) || v.Location() != time.UTC {
		t.Errorf("sqlstore.EncodeTime[time.Time] = %v, want %v in UTC", v, at)
	}
	if sqlstore.NullTime[int64](time.Time{}) != nil || sqlstore.NullTime[time.Time](time.Time{}) != nil {
		t.Error("sqlstore.NullTime of the zero time is not nil")
	}
	for _, got := range []time.Time{sqlstore.DecodeTime(sqlstore.NullTime[int64](at)), sqlstore.DecodeTime(sqlstore.NullTime[time.Time](at))} {
		if !got.Equal(at) || got.Location() != time.UTC {
			t.Errorf("round trip = %v, want %v in UTC", got, at)
		}
	}
	if !sqlstore.DecodeTime[int64](nil).IsZero() || !sqlstore.DecodeTime[time.Time](nil).IsZero() {
		t.Error("sqlstore.DecodeTime(nil) is not the zero time")
	}
}
