package journal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Frame layout, big-endian:
//
//	0  uint32 length   bytes after the 8-byte header (offset through value)
//	4  uint32 crc      CRC-32C (Castagnoli) of those bytes
//	8  int64  offset
//	16 int64  timestamp, unix nanoseconds
//	24 uint32 key length
//	28 key, then value (the rest of the frame)
const (
	headerLen = 8
	fixedBody = 20
	// maxBody bounds one record so that a corrupt length field cannot make
	// recovery or a reader allocate gigabytes; RADIUS packets are at most
	// 4096 bytes, so this leaves ample room for any key and CDR.
	maxBody = 16 << 20
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
}

func frameLen(keyLen, valueLen int) int {
	return headerLen + fixedBody + keyLen + valueLen
}

// newFrame lays out key and value in a frame whose offset, timestamp and CRC
// are filled in later by sealFrame: the appender copies its bytes up front so
// the writer never touches caller memory, even after a cancelled Append has
// returned.
func newFrame(key, value []byte) []byte {
	f := make([]byte, frameLen(len(key), len(value)))
	binary.BigEndian.PutUint32(f[0:], uint32(len(f)-headerLen))
	binary.BigEndian.PutUint32(f[24:], uint32(len(key)))
	copy(f[28:], key)
	copy(f[28+len(key):], value)
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
	keyLen := binary.BigEndian.Uint32(body[16:])
	if keyLen > n-fixedBody {
		return record{}, headerLen + int(n), fmt.Errorf("%w: key length %d exceeds frame", errCorrupt, keyLen)
	}
	kv := body[fixedBody:]
	return record{
		offset:    int64(binary.BigEndian.Uint64(body[0:])),
		timestamp: int64(binary.BigEndian.Uint64(body[8:])),
		key:       kv[:keyLen:keyLen],
		value:     kv[keyLen:],
	}, headerLen + int(n), nil
}
