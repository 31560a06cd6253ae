package journal

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func sealed(offset int64, key, value string) []byte {
	f := newFrame([]byte(key), []byte(value), trace.SpanContext{})
	sealFrame(f, offset, 1700000000123456789)
	return f
}

func TestFrameRoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		key, value string
	}{
		{"empty", "", ""},
		{"key only", "k", ""},
		{"value only", "", "v"},
		{"both", "session-1", "Acct-Status-Type=Start"},
		{"large value", "k", string(bytes.Repeat([]byte("x"), 70000))},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := sealed(int64(i), tt.key, tt.value)
			if len(f) != frameLen(len(tt.key), len(tt.value), trace.SpanContext{}) {
				t.Fatalf("frame is %d bytes, want %d", len(f), frameLen(len(tt.key), len(tt.value), trace.SpanContext{}))
			}
			for _, scratch := range []*[]byte{nil, new([]byte)} {
				rec, size, err := readFrame(bufio.NewReader(bytes.NewReader(f)), scratch)
				if err != nil {
					t.Fatal(err)
				}
				if size != len(f) || rec.offset != int64(i) || rec.timestamp != 1700000000123456789 ||
					string(rec.key) != tt.key || string(rec.value) != tt.value {
					t.Fatalf("got {size %d offset %d ts %d key %q value %d bytes}", size, rec.offset, rec.timestamp, rec.key, len(rec.value))
				}
			}
		})
	}
}

func TestReadFrameDamage(t *testing.T) {
	good := sealed(7, "key", "value")
	flip := func(at int) []byte {
		b := bytes.Clone(good)
		b[at] ^= 0x40
		return b
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, io.EOF},
		{"partial header", good[:5], errTorn},
		{"partial body", good[:len(good)-1], errTorn},
		{"flipped value byte", flip(len(good) - 1), errCorrupt},
		{"flipped offset byte", flip(10), errCorrupt},
		{"flipped crc byte", flip(5), errCorrupt},
		{"zero fill", make([]byte, 64), errCorrupt},
		{"length too small", append([]byte{0, 0, 0, 3}, good[4:]...), errCorrupt},
		{"length too large", append([]byte{0x7f, 0, 0, 0}, good[4:]...), errCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readFrame(bufio.NewReader(bytes.NewReader(tt.data)), nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("readFrame = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSegName(t *testing.T) {
	tests := []struct {
		name string
		base int64
		ok   bool
	}{
		{"00000000000000000000.seg", 0, true},
		{"00000000000000001234.seg", 1234, true},
		{"0000000000000000123.seg", 0, false},
		{"0000000000000000123x.seg", 0, false},
		{"00000000000000001234.seg.torn-1", 0, false},
		{"LOCK", 0, false},
	}
	for _, tt := range tests {
		base, ok := parseSegName(tt.name)
		if ok != tt.ok || base != tt.base {
			t.Errorf("parseSegName(%q) = %d, %v; want %d, %v", tt.name, base, ok, tt.base, tt.ok)
		}
		if tt.ok && segName(base) != tt.name {
			t.Errorf("segName(%d) = %q, want %q", base, segName(base), tt.name)
		}
	}
}

func TestValidConsumerName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"cdr", true},
		{"cdr-v2.main_1", true},
		{"", false},
		{".hidden", false},
		{"a/b", false},
		{"../x", false},
		{string(bytes.Repeat([]byte("a"), 129)), false},
	}
	for _, tt := range tests {
		if err := validConsumerName(tt.name); (err == nil) != tt.ok {
			t.Errorf("validConsumerName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// A traced frame gives its trace context back beside key and value, and
// one with the trace flag but no room for it is corrupt, not a panic.
func TestFrameCarriesTrace(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		TraceFlags: trace.FlagsSampled,
	})
	f := newFrame([]byte("session-1"), []byte("record"), sc)
	sealFrame(f, 3, 42)
	rec, size, err := readFrame(bufio.NewReader(bytes.NewReader(f)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if size != len(f) || string(rec.key) != "session-1" || string(rec.value) != "record" {
		t.Fatalf("got size %d key %q value %q", size, rec.key, rec.value)
	}
	if rec.trace.TraceID() != sc.TraceID() || rec.trace.SpanID() != sc.SpanID() || !rec.trace.IsSampled() {
		t.Fatalf("trace %v, want %v", rec.trace, sc)
	}

	short := newFrame(nil, nil, trace.SpanContext{})
	short[24] |= 0x80 // the trace flag, on a frame with no trace context
	sealFrame(short, 4, 42)
	if _, _, err := readFrame(bufio.NewReader(bytes.NewReader(short)), nil); !errors.Is(err, errCorrupt) {
		t.Fatalf("flagged frame without trace context: %v, want errCorrupt", err)
	}
}
