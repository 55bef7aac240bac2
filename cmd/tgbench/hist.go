package main

import (
	"math/bits"
	"time"
)

// histogram is a fixed-size log-linear latency histogram in microseconds:
// values below 128µs have their own bucket; above, every power of two is
// split into 64 buckets, so a bucket is at most 1/64 (1.6 %) of its value
// wide. It covers the whole uint64 range in 3776 counters (30 KB) and
// records without allocating; each load worker owns one and they are merged
// at the end.
type histogram struct {
	counts [numBuckets]uint64
	n      uint64
	max    uint64 // largest recorded value, µs
}

const (
	subBits    = 7
	subCount   = 1 << subBits // exact buckets 0..127
	halfSub    = subCount / 2 // buckets per power of two above
	numBuckets = subCount + (64-subBits)*halfSub
)

// bucketOf is the bucket index of v µs.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits // ≥ 1
	return subCount + (shift-1)*halfSub + int(v>>uint(shift)) - halfSub
}

// bucketBounds is the half-open range [lo, lo+width) of bucket i, in µs.
func bucketBounds(i int) (lo, width uint64) {
	if i < subCount {
		return uint64(i), 1
	}
	j := i - subCount
	shift := uint(j/halfSub + 1)
	return uint64(j%halfSub+halfSub) << shift, 1 << shift
}

func (h *histogram) record(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d / time.Microsecond)
	}
	h.counts[bucketOf(v)]++
	h.n++
	if v > h.max {
		h.max = v
	}
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the q-quantile (0 < q ≤ 1) in milliseconds: the middle of
// the bucket holding the ceil(q·n)-th smallest value, never above the
// largest value recorded. An empty histogram gives 0.
func (h *histogram) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n))
	if float64(rank) < q*float64(h.n) {
		rank++
	}
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, w := bucketBounds(i)
			v := min(lo+w/2, h.max)
			if w == 1 {
				v = lo
			}
			return float64(v) / 1000
		}
	}
	return float64(h.max) / 1000
}
