package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// The latency histogram is log-linear, like HDR Histogram: values below
// 2^subBits ns are exact, and every power of two above is split into
// 2^(subBits-1) equal buckets, so a bucket is within 1/128 (0.8%) of its
// values. It is fixed-size (about 60 KiB), never allocates while recording,
// and merges by adding, so each socket keeps its own without locks.
const (
	subBits    = 8
	subCount   = 1 << subBits
	subHalf    = subCount / 2
	maxExp     = 64 - subBits
	numBuckets = maxExp*subHalf + subCount
)

type histogram struct {
	counts [numBuckets]uint64
	n      uint64
	sum    uint64
	min    uint64
	max    uint64
}

func bucketOf(v uint64) int {
	e := bits.Len64(v) - subBits
	if e <= 0 {
		return int(v)
	}
	return e*subHalf + int(v>>uint(e))
}

// bucketMid is the middle of bucket i's range, which halves the error of
// reporting either end.
func bucketMid(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	e := uint((i - subHalf) / subHalf)
	lo := uint64(i-int(e)*subHalf) << e
	return lo + (uint64(1)<<e)/2
}

func (h *histogram) record(d int64) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	h.max = max(h.max, v)
	h.n++
	h.sum += v
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// quantile is the smallest recorded value v (to the bucket's precision, and
// within the exact min and max) such that a fraction q of values are ≤ v.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(max(bucketMid(i), h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / h.n)
}
