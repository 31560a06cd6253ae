package journal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"go.opentelemetry.io/otel/trace"
)

// Frame layout, big-endian:
//
//	0  uint32 length   bytes after the 8-byte header (offset through value)
//	4  uint32 crc      CRC-32C (Castagnoli) of those bytes
//	8  int64  offset
//	16 int64  timestamp, unix nanoseconds
//	24 uint32 key length, its top bit traceFlag
//	28 key, then with traceFlag the trace context (traceLen bytes), then
//	   value (the rest of the frame)
const (
	headerLen = 8
	fixedBody = 20
	// maxBody bounds one record so that a corrupt length field cannot make
	// recovery or a reader allocate gigabytes; RADIUS packets are at most
	// 4096 bytes, so this leaves ample room for any key and CDR.
	maxBody = 16 << 20
)

// traceFlag in the key length marks a frame that carries the appending
// request's trace context, when it was sampled: trace ID, span ID and
// flags, traceLen bytes.
// Frames written before it existed never set it (a key is far shorter
// than 2^31 bytes), so they read as they always did; a journal written
// with it cannot be read by a kradius from before it.
const (
	traceFlag = 1 << 31
	traceLen  = 16 + 8 + 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errTorn means a frame ends past the end of the data: the tail of an
// interrupted write.
var errTorn = errors.New("frame cut short")

// errCorrupt means the bytes present do not form a valid frame.
var errCorrupt = errors.New("corrupt frame")

type record struct {
	offset    int64
	timestamp int64
	key       []byte
	value     []byte
	trace     trace.SpanContext
}

func frameLen(keyLen, valueLen int, sc trace.SpanContext) int {
	n := headerLen + fixedBody + keyLen + valueLen
	if sc.IsSampled() {
		n += traceLen
	}
	return n
}

// newFrame lays out key and value in a frame whose offset, timestamp and CRC
// are filled in later by sealFrame: the appender copies its bytes up front so
// the writer never touches caller memory, even after a cancelled Append has
// returned.
func newFrame(key, value []byte, sc trace.SpanContext) []byte {
	f := make([]byte, frameLen(len(key), len(value), sc))
	binary.BigEndian.PutUint32(f[0:], uint32(len(f)-headerLen))
	keyField := uint32(len(key))
	at := 28 + copy(f[28:], key)
	if sc.IsSampled() {
		keyField |= traceFlag
		tid, sid := sc.TraceID(), sc.SpanID()
		at += copy(f[at:], tid[:])
		at += copy(f[at:], sid[:])
		f[at] = byte(sc.TraceFlags())
		at++
	}
	binary.BigEndian.PutUint32(f[24:], keyField)
	copy(f[at:], value)
	return f
}

// sealFrame stamps the offset and timestamp, then the CRC that covers them.
func sealFrame(f []byte, offset, timestamp int64) {
	binary.BigEndian.PutUint64(f[8:], uint64(offset))
	binary.BigEndian.PutUint64(f[16:], uint64(timestamp))
	binary.BigEndian.PutUint32(f[4:], crc32.Checksum(f[headerLen:], castagnoli))
}

// readFrame reads one frame from r. It returns io.EOF only when r is exhausted
// exactly at a frame boundary, errTorn when the data stops inside a frame and
// errCorrupt when the length, CRC or key length is wrong. With a scratch
// buffer the returned key and value alias it (a scan that only checks
// frames); without one they are fresh memory the caller may keep. size is
// the number of bytes the frame occupies.
func readFrame(r *bufio.Reader, scratch *[]byte) (rec record, size int, err error) {
	var hdr [headerLen]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.EOF {
			return record{}, 0, io.EOF
		}
		if err == io.ErrUnexpectedEOF {
			return record{}, n, errTorn
		}
		return record{}, n, fmt.Errorf("read frame header: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[0:])
	if n < fixedBody || n > maxBody {
		return record{}, headerLen, fmt.Errorf("%w: length %d out of range", errCorrupt, n)
	}
	var body []byte
	if scratch == nil {
		body = make([]byte, n)
	} else {
		if cap(*scratch) < int(n) {
			*scratch = make([]byte, n)
		}
		body = (*scratch)[:n]
	}
	if got, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return record{}, headerLen + got, errTorn
		}
		return record{}, headerLen + got, fmt.Errorf("read frame body: %w", err)
	}
	if want, got := binary.BigEndian.Uint32(hdr[4:]), crc32.Checksum(body, castagnoli); want != got {
		return record{}, headerLen + int(n), fmt.Errorf("%w: crc %08x, want %08x", errCorrupt, got, want)
	}
	keyField := binary.BigEndian.Uint32(body[16:])
	keyLen, traced := keyField&^traceFlag, keyField&traceFlag != 0
	rest := n - fixedBody
	if traced {
		if rest < traceLen {
			return record{}, headerLen + int(n), fmt.Errorf("%w: no room for the trace context", errCorrupt)
		}
		rest -= traceLen
	}
	if keyLen > rest {
		return record{}, headerLen + int(n), fmt.Errorf("%w: key length %d exceeds frame", errCorrupt, keyLen)
	}
	kv := body[fixedBody:]
	rec = record{
		offset:    int64(binary.BigEndian.Uint64(body[0:])),
		timestamp: int64(binary.BigEndian.Uint64(body[8:])),
		key:       kv[:keyLen:keyLen],
		value:     kv[keyLen:],
	}
	if traced {
		t := rec.value[:traceLen]
		rec.trace = trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID(t[:16]), SpanID: trace.SpanID(t[16:24]), TraceFlags: trace.TraceFlags(t[24]), Remote: true,
		})
		rec.value = rec.value[traceLen:]
	}
	return rec, headerLen + int(n), nil
}
