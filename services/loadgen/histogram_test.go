package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsAreContiguousAndTight(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 127, 255, 256, 257, 511, 512, 1000, 1 << 20, 123456789, 1 << 40, math.MaxInt64, math.MaxUint64} {
		i := bucketOf(v)
		if i < prev || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d after %d (of %d)", v, i, prev, numBuckets)
		}
		prev = i
		if mid := bucketMid(i); math.Abs(float64(mid)-float64(v)) > float64(v)/128+1 {
			t.Errorf("value %d reported as %d: beyond 1/128", v, mid)
		}
	}
	for i := 1; i < numBuckets; i++ {
		if bucketMid(i) <= bucketMid(i-1) {
			t.Fatalf("bucket %d's middle %d not above bucket %d's %d", i, bucketMid(i), i-1, bucketMid(i-1))
		}
	}
}

func TestQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name   string
		values []int64
	}{
		{"one", []int64{int64(time.Millisecond)}},
		{"uniform", func() []int64 {
			v := make([]int64, 10000)
			for i := range v {
				v[i] = int64(i+1) * 1000
			}
			return v
		}()},
		{"long tail", func() []int64 {
			v := make([]int64, 100000)
			for i := range v {
				v[i] = int64(rng.ExpFloat64() * 500e3)
			}
			return v
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h histogram
			for _, v := range tt.values {
				h.record(v)
			}
			sorted := slices.Sorted(slices.Values(tt.values))
			for _, q := range []float64{0.5, 0.9, 0.99, 1} {
				exact := float64(sorted[max(int(math.Ceil(q*float64(len(sorted))))-1, 0)])
				if got := float64(h.quantile(q)); math.Abs(got-exact) > exact/128+1 {
					t.Errorf("p%g = %g, exact %g", q*100, got, exact)
				}
			}
			if time.Duration(h.max) != time.Duration(sorted[len(sorted)-1]) || h.min != uint64(sorted[0]) {
				t.Errorf("min %d max %d, want %d and %d", h.min, h.max, sorted[0], sorted[len(sorted)-1])
			}
		})
	}
}

func TestMerge(t *testing.T) {
	var a, b, both histogram
	for i := range int64(1000) {
		v := i * 7919 % 100000
		if i%2 == 0 {
			a.record(v)
		} else {
			b.record(v)
		}
		both.record(v)
	}
	var empty histogram
	a.merge(&b)
	a.merge(&empty)
	if a != both {
		t.Error("merging two halves differs from recording all")
	}
}
